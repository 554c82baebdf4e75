#!/bin/sh
# Prints, one per line and sorted, the Debian packages that provide the
# shared libraries the given ELF programs link to directly (their NEEDED
# entries). The image's build stage runs it on the ltrr programs, and the
# runtime stage installs exactly that list (dependencies of those packages
# come with them). Fails when a library belongs to no package.
#   deploy/runtime-packages.sh PROGRAM...
set -eu

[ "$#" -gt 0 ] || { echo "usage: $0 PROGRAM..." >&2; exit 64; }

for prog in "$@"; do
        if [ ! -f "$prog" ] || [ ! -r "$prog" ]; then
                echo "runtime-packages: cannot read $prog" >&2
                exit 1
        fi
        objdump -p "$prog" >/dev/null 2>&1 ||
                { echo "runtime-packages: $prog is not an ELF file" >&2; exit 1; }
done
libs=$(for prog in "$@"; do
        objdump -p "$prog" | awk '$1 == "NEEDED" { print $2 }'
done | sort -u)

pkgs=""
for lib in $libs; do
        path=$(ldconfig -p | awk -v l="$lib" '$1 == l { print $NF; exit }')
        [ -n "$path" ] || { echo "runtime-packages: $lib not found" >&2; exit 1; }
        pkg=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null ||
              dpkg -S "$path" 2>/dev/null) ||
                { echo "runtime-packages: no package owns $path" >&2; exit 1; }
        pkg=$(printf '%s\n' "$pkg" | head -n 1)
        pkgs="$pkgs ${pkg%%:*}"
done
# $pkgs is split on purpose: one package name per word.
# shellcheck disable=SC2086
printf '%s\n' $pkgs | sort -u
