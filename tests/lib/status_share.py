#!/usr/bin/python3
"""Samples a URL every 10 ms for a while and prints "hits samples": how
many answers had the given HTTP status, out of how many requests.

    status_share.py URL STATUS SECONDS
"""
import sys
import time
import urllib.error
import urllib.request


def main():
    url, want, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    hits = n = 0
    end = time.time() + secs
    while time.time() < end:
        n += 1
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                r.read()
                hits += r.status == want
        except urllib.error.HTTPError as e:
            hits += e.code == want
        except OSError:
            pass
        time.sleep(0.01)
    print(hits, n)


if __name__ == "__main__":
    main()
