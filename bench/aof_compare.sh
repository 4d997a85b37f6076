#!/usr/bin/env bash
# Write throughput with the AOF on, setd beside redis-server 7.0 in the same
# run: SADD at -P 1 and -P 16 with appendfsync always and everysec. Both
# servers get a fresh temp --dir on the same filesystem, the same policy and
# no save points; rounds alternate between them and the median is printed.
#
# usage: bash bench/aof_compare.sh [-n requests] [-c clients] [-r rounds] [policy ...]
#   policies: always everysec (default: both)
# Needs a built setd (bash .ci/build setd), redis-server and redis-benchmark.
# Prints figures; asserts nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
N=100000
C=50
ROUNDS=3
while getopts "n:c:r:" opt; do
  case $opt in
    n) N=$OPTARG ;;
    c) C=$OPTARG ;;
    r) ROUNDS=$OPTARG ;;
    *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))
POLICIES=("$@")
((${#POLICIES[@]})) || POLICIES=(always everysec)
SETD=${SETD:-build/bin/setd}
[[ -x $SETD ]] || { echo "build setd first: bash .ci/build setd" >&2; exit 1; }

rps() {  # port pipeline -> requests per second
  redis-benchmark -p "$1" -n "$N" -c "$C" -P "$2" -r 1000000 -t sadd -q 2>/dev/null |
    awk -F'[: ]+' '/SADD/ {for (i=1;i<=NF;i++) if ($i ~ /^[0-9.]+$/) {print $i; exit}}'
}

PIDS=()
DIRS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for d in "${DIRS[@]}"; do rm -rf "$d"; done
}
trap cleanup EXIT

printf '%-9s %-4s %12s %12s %7s\n' policy P setd_rps redis_rps ratio
for policy in "${POLICIES[@]}"; do
  SD=$(mktemp -d /var/tmp/aofbench-setd.XXXXXX); RD=$(mktemp -d /var/tmp/aofbench-redis.XXXXXX)
  DIRS+=("$SD" "$RD")
  SP=$(free_port); RP=$(free_port)
  "$SETD" --port "$SP" --bind 127.0.0.1 --loglevel warning --save "" --dir "$SD" \
    --appendonly yes --appendfsync "$policy" >/dev/null 2>&1 & PIDS+=($!)
  redis-server --port "$RP" --bind 127.0.0.1 --save "" --dir "$RD" --logfile /dev/null \
    --appendonly yes --appendfsync "$policy" >/dev/null 2>&1 & PIDS+=($!)
  wait_ping "$SP"; wait_ping "$RP"
  for p in 1 16; do
    s=(); r=()
    for _ in $(seq "$ROUNDS"); do
      s+=("$(rps "$SP" "$p")")
      r+=("$(rps "$RP" "$p")")
    done
    sm=$(median_of "${s[@]}"); rm_=$(median_of "${r[@]}")
    printf '%-9s %-4s %12s %12s %7s\n' "$policy" "$p" "$sm" "$rm_" \
      "$(awk -v a="$sm" -v b="$rm_" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')"
  done
  redis-cli -p "$SP" shutdown nosave >/dev/null 2>&1 || true
  redis-cli -p "$RP" shutdown nosave >/dev/null 2>&1 || true
done
