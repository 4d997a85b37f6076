#!/usr/bin/env bash
# Load time of a dump of SETS x MEMBERS set members (default 10 x 1,000,000 =
# 10M members "m:<i>"), setd beside redis-server 7.0: redis-server writes the
# dump, then each server is started on (a copy of) it ROUNDS times and the
# median time from start to the first PONG is printed (Redis answers
# -LOADING meanwhile; setd accepts connections once loaded). Also prints the
# dump setd writes back (SAVE) and its size.
#
# usage: bash bench/load_compare.sh [-s sets] [-m members] [-r rounds]
# Needs a built setd (bash .ci/build setd) and redis-server. Prints figures;
# asserts nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
SETS=10
MEMBERS=1000000
ROUNDS=3
while getopts "s:m:r:" opt; do
  case $opt in
    s) SETS=$OPTARG ;;
    m) MEMBERS=$OPTARG ;;
    r) ROUNDS=$OPTARG ;;
    *) exit 2 ;;
  esac
done
SETD=${SETD:-$PWD/build/bin/setd}
[[ -x $SETD ]] || { echo "build setd first: bash .ci/build setd" >&2; exit 1; }
W=$(mktemp -d /var/tmp/loadbench.XXXXXX)
PID=
cleanup() { [[ -n $PID ]] && kill "$PID" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT

# Seconds from start until PONG. $1 = port, rest = command line.
time_to_pong() {
  local port=$1; shift
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >/dev/null 2>&1 & PID=$!
  until [[ $(redis-cli -p "$port" ping 2>/dev/null) == PONG ]]; do sleep 0.01; done
  t1=$(date +%s.%N)
  redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
  wait "$PID" 2>/dev/null || true
  PID=
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}

mkdir -p "$W/make"
RP=$(free_port)
redis-server --port "$RP" --bind 127.0.0.1 --save "" --dir "$W/make" --logfile /dev/null & PID=$!
until redis-cli -p "$RP" ping >/dev/null 2>&1; do sleep 0.05; done
python3 - "$SETS" "$MEMBERS" <<'PY' | redis-cli -p "$RP" --pipe >/dev/null
import sys
sets, members = int(sys.argv[1]), int(sys.argv[2])
out = sys.stdout.buffer
for s in range(sets):
    key = b"set:%d" % s
    for base in range(0, members, 1000):
        args = [b"SADD", key] + [b"m:%d" % i for i in range(base, min(base + 1000, members))]
        out.write(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
PY
redis-cli -p "$RP" save >/dev/null
redis-cli -p "$RP" shutdown nosave >/dev/null 2>&1 || true
wait "$PID" 2>/dev/null || true
PID=
DUMP="$W/make/dump.rdb"
echo "dump: $SETS sets x $MEMBERS members, $(($(stat -c %s "$DUMP") / 1048576)) MiB (written by redis-server)"

s=(); r=()
for _ in $(seq "$ROUNDS"); do
  mkdir -p "$W/s" "$W/r"; cp "$DUMP" "$W/s/dump.rdb"; cp "$DUMP" "$W/r/dump.rdb"
  P=$(free_port)
  s+=("$(time_to_pong "$P" "$SETD" --port "$P" --bind 127.0.0.1 --save "" --dir "$W/s" --loglevel warning)")
  P=$(free_port)
  r+=("$(time_to_pong "$P" redis-server --port "$P" --bind 127.0.0.1 --save "" --dir "$W/r" --logfile /dev/null)")
done
sm=$(median_of "${s[@]}"); rm_=$(median_of "${r[@]}")
printf '%-8s %10s\n' server load_s
printf '%-8s %10s\n' setd "$sm" redis "$rm_"
awk -v a="$sm" -v b="$rm_" 'BEGIN { printf "setd loads in %.2fx the time redis-server takes\n", a / b }'
