#!/usr/bin/env bash
# Memory per key (or per member), measured from outside: for every shape a
# fresh setd and a fresh redis-server start on free ports, the data goes in
# through redis-cli --pipe, and the growth of the process's RSS is divided by
# the number of keys (or members). One table, setd beside redis-server, with
# issue 13's targets.
#
# usage: bash bench/memory_compare.sh [--scale F] [--only SHAPE] [--allocators]
#   --scale F      multiply every key/member count by F (0.1 for a quick run)
#   --only SHAPE   one shape: onemember, tags5, set50, strings, strings_ex, bigset
#   --allocators   also run setd built for each allocator and print one
#                  column per allocator: glibc malloc ($SETD), jemalloc
#                  ($SETD_JEMALLOC, default build-je/bin/setd) and mimalloc
#                  ($SETD_MIMALLOC, default build-mi/bin/setd), made with
#                    cmake -S . -B build-je -DSETD_ALLOCATOR=jemalloc
#                    cmake --build build-je -j2 --target setd
#                  (the same with build-mi and mimalloc). Each server's INFO
#                  mem_allocator is checked against the column's name.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
SETD=${SETD:-build/bin/setd}
[[ -x $SETD ]] || { echo "build setd first: bash .ci/build setd" >&2; exit 1; }
SCALE=1 ONLY="" ALLOCS=0
while (($#)); do
  case $1 in
    --scale) SCALE=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --allocators) ALLOCS=1; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
declare -A BINARY=([glibc]="$SETD" [jemalloc]="${SETD_JEMALLOC:-build-je/bin/setd}"
                   [mimalloc]="${SETD_MIMALLOC:-build-mi/bin/setd}")
declare -A ALLOC_NAME=([glibc]=libc [jemalloc]=jemalloc [mimalloc]=mimalloc)
WORK=$(mktemp -d /var/tmp/setd-memory.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# shape -> "count unit target description"
SHAPES=(onemember tags5 set50 strings strings_ex bigset)
declare -A COUNT=([onemember]=1000000 [tags5]=1000000 [set50]=100000 [strings]=1000000
                  [strings_ex]=1000000 [bigset]=1000000)
declare -A UNIT=([onemember]=key [tags5]=key [set50]=member [strings]=key [strings_ex]=key
                 [bigset]=member)
declare -A TARGET=([onemember]=64 [tags5]=96 [set50]=10 [strings]=64 [strings_ex]=80 [bigset]=17)
declare -A DESC=([onemember]="1M keys, a 1-member set each"
                 [tags5]="1M keys tags:post:<i>, 5 short tags each"
                 [set50]="100k keys, 50 members m:<j> each"
                 [strings]="1M strings user:<i>:name = v<i>"
                 [strings_ex]="the same with EX"
                 [bigset]="1 set of 1M members m:<i>")

# The RESP stream of a shape, on stdout.
gen() {
  python3 - "$1" "$2" <<'PY'
import sys
shape, n = sys.argv[1], int(sys.argv[2])
out = sys.stdout.buffer
def cmd(*args):
    out.write(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
tags = [t.encode() for t in ("redis cache db nosql linux perf c++ rust go python java sql "
        "kv sets tags web api http tcp tls json yaml docker k8s cloud aws gcp azure ml ai "
        "ops sre devops ci cd git test bench mem cpu").split()]
if shape == "onemember":
    for i in range(n): cmd(b"SADD", b"set:%d" % i, b"m%d" % (i % 1000))
elif shape == "tags5":
    for i in range(n):
        cmd(b"SADD", b"tags:post:%d" % i, *[tags[(i * 7 + j * 13) % len(tags)] for j in range(5)])
elif shape == "set50":
    members = [b"m:%d" % j for j in range(50)]
    for i in range(n // 50): cmd(b"SADD", b"s50:%d" % i, *members)
elif shape == "strings":
    for i in range(n): cmd(b"SET", b"user:%d:name" % i, b"v%d" % i)
elif shape == "strings_ex":
    for i in range(n): cmd(b"SET", b"user:%d:name" % i, b"v%d" % i, b"EX", b"100000")
elif shape == "bigset":
    for base in range(0, n, 1000):
        cmd(b"SADD", b"big", *[b"m:%d" % i for i in range(base, min(base + 1000, n))])
PY
}

# Bytes of RSS growth per unit for one shape on a fresh server.
# measure <setd|redis> <allocator> <shape> <count>
measure() {
  local kind=$1 alloc=$2 shape=$3 n=$4 port pid before after
  port=$(free_port)
  # An empty --dir: a dump.rdb in the working directory is not loaded.
  if [[ $kind == setd ]]; then
    "${BINARY[$alloc]}" --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
      --dir "$WORK" --loglevel warning >/dev/null 2>&1 &
  else
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
      --dir "$WORK" --logfile /dev/null >/dev/null 2>&1 &
  fi
  pid=$!
  wait_ping "$port"
  if [[ $kind == setd ]] &&
    ! redis-cli -p "$port" info memory | grep -q "^mem_allocator:${ALLOC_NAME[$alloc]}"; then
    echo "${BINARY[$alloc]} does not run on $alloc" >&2
    kill "$pid"
    exit 1
  fi
  before=$(rss_kb "$pid")
  gen "$shape" "$n" | redis-cli -p "$port" --pipe >/dev/null
  sleep 0.5
  after=$(rss_kb "$pid")
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
  awk -v a="$after" -v b="$before" -v n="$n" 'BEGIN { printf "%.1f", (a - b) * 1024 / n }'
}

allocs=(glibc)
((ALLOCS)) && allocs=(glibc jemalloc mimalloc)
for a in "${allocs[@]}"; do
  [[ -x ${BINARY[$a]} ]] || { echo "no setd for $a at ${BINARY[$a]} (see --allocators)" >&2; exit 1; }
done
printf '%-44s %-7s %8s' "shape (bytes per key or member)" unit redis
for a in "${allocs[@]}"; do printf ' %10s' "setd-$a"; done
printf ' %7s\n' target
for s in "${SHAPES[@]}"; do
  [[ -n $ONLY && $s != "$ONLY" ]] && continue
  n=$(awk -v c="${COUNT[$s]}" -v f="$SCALE" 'BEGIN { printf "%d", c * f }')
  printf '%-44s %-7s %8s' "${DESC[$s]}" "${UNIT[$s]}" "$(measure redis - "$s" "$n")"
  for a in "${allocs[@]}"; do printf ' %10s' "$(measure setd "$a" "$s" "$n")"; done
  printf ' %7s\n' "<= ${TARGET[$s]}"
done
