#!/usr/bin/env bash
# The live dashboard of ltrr-serve in a real browser: the embedded stack
# (redis, broker, index, collect, join, learn), an ltrr-serve scraping the
# other daemons, ltrr-sim traffic; curl checks of the /dashboard routes and
# their refusals; then headless Chromium (Debian's chromium package, driven
# by playwright-core from npm) loads /dashboard, checks that the charts get
# data and change between two samples, and saves
# $LTRR_TEST_OUT/dashboard_browser/dashboard.png.
. "$LTRR_SRC/tests/lib/harness.sh"

CHROMIUM=${LTRR_CHROMIUM:-/usr/bin/chromium}
command -v curl >/dev/null || skip "curl not installed"
command -v node >/dev/null && command -v npm >/dev/null ||
        skip "node/npm not installed (Debian packages nodejs, npm)"
[ -x "$CHROMIUM" ] || skip "$CHROMIUM not found (Debian package chromium)"
for b in serve sim index broker collect join learn; do
        [ -x "$LTRR_BIN/ltrr-$b" ] || fail "$LTRR_BIN/ltrr-$b not built"
done
OUT=${LTRR_TEST_OUT:-$LTRR_SRC/build/test-out}/dashboard_browser
mkdir -p "$OUT"
rm -f "$OUT/dashboard.png" "$OUT/dashboard.json"
harness_init

# playwright-core from the lock file, installed outside the source tree and
# kept between runs while the lock file is unchanged.
NODE_DIR=${LTRR_TEST_OUT:-$HARNESS_DIR}/browser-node
if ! cmp -s "$LTRR_SRC/tests/browser/package-lock.json" \
        "$NODE_DIR/package-lock.json" ||
        [ ! -d "$NODE_DIR/node_modules/playwright-core" ]; then
        mkdir -p "$NODE_DIR"
        cp "$LTRR_SRC/tests/browser/package.json" \
                "$LTRR_SRC/tests/browser/package-lock.json" "$NODE_DIR/"
        (cd "$NODE_DIR" && npm ci --no-audit --no-fund) \
                >"$HARNESS_DIR/npm.log" 2>&1 ||
                skip "npm ci of tests/browser failed (no registry?): $(tail -n 3 "$HARNESS_DIR/npm.log")"
fi

harness_stack --only redis,broker,index,collect,join,learn
[ -n "${LTRR_JOIN_URL:-}" ] && [ -n "${LTRR_LEARN_URL:-}" ] &&
        [ -n "${LTRR_COLLECT_URL:-}" ] || fail "stack lacks collect/join/learn"

# start_serve NAME ARGS...: ltrr-serve on a free port; sets SERVE_URL.
start_serve() {
        local name=$1 port
        shift
        harness_bg "$name" "$LTRR_BIN/ltrr-serve" --http.port=0 \
                --redis.addr="$LTRR_REDIS" --kafka.bootstrap="$LTRR_BOOTSTRAP" \
                --index="$LTRR_INDEX" "$@"
        harness_wait "$name to listen" 30 grep -q 'msg=listening' \
                "$HARNESS_DIR/$name.log"
        port=$(sed -n 's/.*msg=listening.* port=\([0-9]*\).*/\1/p' \
                "$HARNESS_DIR/$name.log" | head -n 1)
        [ -n "$port" ] || fail "no port in $name.log"
        SERVE_URL=http://127.0.0.1:$port
}

start_serve serve --dashboard.collect_url="$LTRR_COLLECT_URL" \
        --dashboard.join_url="$LTRR_JOIN_URL" \
        --dashboard.learn_url="$LTRR_LEARN_URL"
URL=$SERVE_URL

# Routes and refusals.
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
assert_eq "$(code "$URL/dashboard")" 200 "GET /dashboard"
assert_contains "$(curl -s "$URL/dashboard")" '<script src="/dashboard/dashboard.js">' "page"
assert_contains "$(curl -s -D - -o /dev/null "$URL/dashboard/dashboard.js" | tr -d '\r')" \
        "Content-Type: text/javascript" "script content type"
assert_eq "$(code "$URL/dashboard/dashboard.css")" 200 "GET css"
assert_eq "$(code "$URL/dashboard/nope")" 404 "unknown dashboard path"
assert_eq "$(code -X POST "$URL/dashboard/data")" 405 "POST /dashboard/data"
assert_eq "$(code "$URL/dashboard/data?since=abc")" 400 "bad since"
assert_eq "$(code "$URL/dashboardx")" 404 "prefix is not a route"

harness_bg sim "$LTRR_BIN/ltrr-sim" --serve "$URL" --collect "$LTRR_COLLECT_URL" \
        --api-key "$LTRR_API_KEY" --queries 1000000 --rate 150 --seed 3 \
        --catalog synthetic:20000:1 --concurrency 4

# data: the newest point of /dashboard/data as "qps p99 reward fresh".
latest() {
        curl -s "$URL/dashboard/data" | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
p = d["points"][-1] if d["points"] else {}
ok = all(p.get("up", {}).get(k) for k in ("serve", "collect", "join", "learn"))
print("up" if ok else "down", *(p.get(k) for k in ("qps", "p99_ms", "reward", "freshness_s")), len(d["top_queries"]))'
}
traffic_seen() {
        set -- $(latest)
        [ "$1" = up ] && [ "$2" != None ] && [ "$2" != 0.0 ] && [ "$3" != None ]
}
harness_wait "dashboard points with traffic from every source" 60 traffic_seen
harness_log "newest point: $(latest)"
rewards_seen() {
        set -- $(latest)
        [ "$4" != None ] && [ "$5" != None ] && [ "$6" -gt 0 ]
}
harness_wait "rewards, freshness and top queries on the dashboard" 90 rewards_seen
harness_log "newest point: $(latest)"
# The subsets policy's set fields ("@<id>") are not arms.
assert_eq "$(curl -s "$URL/dashboard/data" | /usr/bin/python3 -c \
        'import json,sys; a=json.load(sys.stdin)["arms"]; print("fuzzy" in a, any(x.startswith("@") for x in a))')" \
        "True False" "arms listed, arm sets not"
since=$(curl -s "$URL/dashboard/data" | /usr/bin/python3 -c \
        'import json,sys; print(json.load(sys.stdin)["points"][-1]["t"])')
assert_eq "$(curl -s "$URL/dashboard/data?since=$since" | /usr/bin/python3 -c \
        'import json,sys; d=json.load(sys.stdin); print(all(p["t"] > '"$since"' for p in d["points"]))')" \
        True "since= returns newer points only"

NODE_PATH=$NODE_DIR/node_modules node "$LTRR_SRC/tests/browser/dashboard_check.js" \
        --url "$URL" --out "$OUT" --chromium "$CHROMIUM" --min-points 30 \
        --require c-traffic,c-latency,c-reward,c-armreward,c-armshare,c-join,c-fresh,c-errors \
        >"$HARNESS_DIR/browser.out" 2>"$HARNESS_DIR/browser.log" ||
        fail "browser check: $(cat "$HARNESS_DIR/browser.log" "$HARNESS_DIR/browser.out")"
harness_log "browser: $(cat "$HARNESS_DIR/browser.out")"
[ -s "$OUT/dashboard.png" ] || fail "no screenshot"

# A scrape target that does not answer is shown as down, not fatal; a
# malformed one keeps the sampler off and /dashboard/data answers 503.
start_serve serve_dead --dashboard.learn_url=http://127.0.0.1:1
DEAD_URL=$SERVE_URL
learn_down() {
        curl -s "$DEAD_URL/dashboard/data" | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["sources"]["learn"] and d["points"]
p = d["points"][-1]
assert p["up"]["serve"] and not p["up"]["learn"] and p["freshness_s"] is None'
}
harness_wait "unreachable learn shown as down" 20 learn_down
start_serve serve_bad --dashboard.join_url=not-a-url
assert_eq "$(code "$SERVE_URL/dashboard/data")" 503 "sampler not started"
grep -q 'msg="not started"' "$HARNESS_DIR/serve_bad.log" ||
        fail "no 'not started' log line"
assert_eq "$(code "$SERVE_URL/dashboard")" 200 "page without sampler"
harness_log "ok: screenshot $OUT/dashboard.png"
