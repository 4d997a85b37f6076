#!/usr/bin/env bash
# RSS per set member, measured from outside: starts setd and redis-server on
# free ports, adds N members "m:<i>" (default 1,000,000) to one set in each
# through redis-cli --pipe, and prints the growth of used_memory_rss per member.
# usage: bash bench/rss_compare.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
N=${1:-1000000}
SETD=${SETD:-build/bin/setd}
[[ -x $SETD ]] || { echo "build setd first: bash .ci/build setd" >&2; exit 1; }
SP=$(free_port); RP=$(free_port)
"$SETD" --port "$SP" --bind 127.0.0.1 --loglevel warning >/dev/null 2>&1 & SPID=$!
redis-server --port "$RP" --bind 127.0.0.1 --save '' --appendonly no --logfile /dev/null >/dev/null 2>&1 & RPID=$!
trap 'kill $SPID $RPID 2>/dev/null; wait $SPID $RPID 2>/dev/null' EXIT
wait_ping "$SP"; wait_ping "$RP"

rss() { redis-cli -p "$1" info memory | awk -F: '/^used_memory_rss:/ {print $2 + 0}'; }
fill() {
  python3 - "$N" <<'PY' | redis-cli -p "$1" --pipe >/dev/null
import sys
n = int(sys.argv[1]); out = sys.stdout.buffer
for base in range(0, n, 1000):
    args = [b"SADD", b"big"] + [b"m:%d" % i for i in range(base, min(base + 1000, n))]
    out.write(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
PY
}
printf '%-8s %10s %16s\n' server members rss_per_member
for s in setd:$SP redis:$RP; do
  name=${s%%:*} port=${s##*:}
  before=$(rss "$port"); fill "$port"; after=$(rss "$port")
  printf '%-8s %10s %16s\n' "$name" "$(redis-cli -p "$port" scard big)" \
    "$(awk -v a="$after" -v b="$before" -v n="$N" 'BEGIN { printf "%.1f B", (a - b) / n }')"
done
