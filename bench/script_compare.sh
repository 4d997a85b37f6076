#!/usr/bin/env bash
# Lua scripting throughput of setd and redis-server 7.0, side by side in the
# same run: EVALSHA of a small check-and-add script on a set (SISMEMBER,
# then SADD when the member is missing; returns 0 or 1) with a random member
# in ARGV (redis-benchmark's __rand_int__, -r 100000), at -P 1 and -P 16.
# Prints requests/second for each server, the setd/redis ratio and each
# server's own CPU time per request, as bench/compare.sh does.
#
# usage: bash bench/script_compare.sh [-n requests] [-c clients] [-r rounds]
#
# Before every run the set is reset to the even numbers below 100000, so
# each run starts with half its members already there (SISMEMBER only) and
# half to add (SISMEMBER + SADD). Runs alternate between the servers
# (setd, redis, setd, ...) and the median of each server's `rounds` runs
# (default 5) is printed. Needs a built setd (bash .ci/build setd),
# redis-server and redis-benchmark. Prints figures; asserts nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
N=200000
C=50
ROUNDS=5
while getopts "n:c:r:" opt; do
  case $opt in
    n) N=$OPTARG ;;
    c) C=$OPTARG ;;
    r) ROUNDS=$OPTARG ;;
    *) exit 2 ;;
  esac
done
SETD=${SETD:-build/bin/setd}
[[ -x $SETD ]] || { echo "build setd first: bash .ci/build setd" >&2; exit 1; }

SCRIPT="if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 0 end
redis.call('SADD', KEYS[1], ARGV[1])
return 1"
RANGE=100000

SP=$(free_port); RP=$(free_port)
WORK=$(mktemp -d /var/tmp/setd-script-compare.XXXXXX)
start_server setd "$SP" "$WORK/s"; SPID=$SERVER_PID
start_server redis "$RP" "$WORK/r"; RPID=$SERVER_PID
trap 'kill $SPID $RPID 2>/dev/null; wait $SPID $RPID 2>/dev/null; rm -rf "$WORK"' EXIT
wait_ping "$SP"; wait_ping "$RP"

# SCRIPT LOAD on both: the same SHA-1 (and a check that setd computes it as
# Redis does).
SHA=$(redis-cli -p "$RP" script load "$SCRIPT")
[[ $(redis-cli -p "$SP" script load "$SCRIPT") == "$SHA" ]] || { echo "setd's SHA-1 differs" >&2; exit 1; }

reset_set() {  # port: bench:set = the even numbers below RANGE
  redis-cli -p "$1" del bench:set >/dev/null
  python3 - "$RANGE" <<'PY' | redis-cli -p "$1" --pipe >/dev/null
import sys
n = int(sys.argv[1])
out = sys.stdout.buffer
for base in range(0, n, 2000):
    args = [b"SADD", b"bench:set"] + [b"%d" % i for i in range(base, min(base + 2000, n), 2)]
    out.write(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
PY
}

run() {  # port, pid, pipeline -> "rps cpu_us_per_request" (n/a when it failed)
  local port=$1 pid=$2 p=$3 out t0 t1
  reset_set "$port"
  t0=$(proc_ticks "$pid")
  out=$(redis-benchmark -p "$port" -n "$N" -c "$C" -P "$p" -r "$RANGE" --csv \
    evalsha "$SHA" 1 bench:set __rand_int__ 2>/dev/null |
    awk -F'","' 'NR>1 {gsub(/"/,"",$2); print $2; exit}') || true
  t1=$(proc_ticks "$pid")
  awk -v r="${out:-n/a}" -v d=$((t1 - t0)) -v hz="$HZ" -v n="$N" \
    'BEGIN { if (r == "n/a") print "n/a n/a"; else printf "%s %.2f\n", r, d * 1e6 / hz / n }'
}

median() {  # numbers (or n/a) -> their median, n/a if any is n/a
  printf '%s\n' "$@" | sort -g | awk '/n\/a/ {bad=1} {v[NR]=$1}
    END { if (bad || NR == 0) print "n/a"; else if (NR % 2) print v[(NR+1)/2];
          else printf "%.2f\n", (v[NR/2] + v[NR/2+1]) / 2 }'
}

HZ=$(getconf CLK_TCK 2>/dev/null || echo 100)
steal_start
echo "EVALSHA $SHA 1 bench:set __rand_int__ (-r $RANGE), $N requests, $C clients, median of $ROUNDS"
printf '%-22s %14s %14s %8s %9s %9s\n' workload setd_rps redis_rps ratio setd_us redis_us
for p in 1 16; do
  ss=() rr=() sc=() rc=()
  for ((i = 0; i < ROUNDS; i++)); do
    read -r -a a <<<"$(run "$SP" "$SPID" "$p")"
    read -r -a b <<<"$(run "$RP" "$RPID" "$p")"
    ss+=("${a[0]}") sc+=("${a[1]}") rr+=("${b[0]}") rc+=("${b[1]}")
  done
  [[ -n ${COMPARE_DEBUG:-} ]] && echo "  P$p: setd ${ss[*]} (${sc[*]} us) | redis ${rr[*]} (${rc[*]} us)" >&2
  s=$(median "${ss[@]}"); r=$(median "${rr[@]}")
  ratio=$(awk -v a="$s" -v b="$r" 'BEGIN{ if (a+0>0 && b+0>0) printf "%.2f", a/b; else print "n/a" }')
  printf '%-22s %14s %14s %8s %9s %9s\n' "evalsha_check_add_p$p" "$s" "$r" "$ratio" \
    "$(median "${sc[@]}")" "$(median "${rc[@]}")"
done
echo "setd_us / redis_us: the server's own CPU time per request in microseconds (user +"
echo "system, median); see bench/compare.sh."
steal_report
exit 0
