#!/usr/bin/env bash
# Cost of ACL checks: the same workload run as the default user (which
# allows everything) and as a user limited by key patterns and categories,
# on setd and on redis-server 7.0 in the same run. For each it prints
# requests per second and the server's CPU time per request (the main
# thread's, in ns, from /proc/<pid>/schedstat: steadier than throughput on a
# shared machine); the
# "cost" column is how much more CPU a request takes as the limited user.
#
# usage: bash bench/acl_compare.sh [-n requests] [-c clients] [-r rounds] [-P pipeline]
# Needs a built setd (bash .ci/build setd), redis-server and redis-benchmark.
# Prints figures; asserts nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
N=1000000
C=50
ROUNDS=3
P=16
while getopts "n:c:r:P:" opt; do
  case $opt in
    n) N=$OPTARG ;;
    c) C=$OPTARG ;;
    r) ROUNDS=$OPTARG ;;
    P) P=$OPTARG ;;
    *) exit 2 ;;
  esac
done
SETD=${SETD:-build/bin/setd}
[[ -x $SETD ]] || { echo "build setd first: bash .ci/build setd" >&2; exit 1; }
# The limited user: three key patterns (the keys used match the last), one
# channel, set and connection commands only.
RULES=(on '>benchpw' '~user:*' '~session:*' '~key:*' '&news' -@all +@set +@connection)

cpu_ns() { awk '{print $1}' "/proc/$1/schedstat"; }

# run <port> <pid> <test> [auth...] -> "rps cpu_us_per_request"
run() {
  local port=$1 pid=$2 test=$3; shift 3
  local t0 t1 out rps cmd
  case $test in
    sadd) cmd=(sadd key:set __rand_int__) ;;
    sismember) cmd=(sismember key:set __rand_int__) ;;
  esac
  t0=$(cpu_ns "$pid")
  out=$(redis-benchmark -p "$port" "$@" -n "$N" -c "$C" -P "$P" -r 100000 -q "${cmd[@]}" 2>/dev/null)
  t1=$(cpu_ns "$pid")
  rps=$(awk -F'[: ]+' '{for (i=1;i<=NF;i++) if ($i ~ /^[0-9.]+$/ && $(i+1) == "requests") {print $i; exit}}' <<<"$out")
  echo "$rps $(awk -v a="$t0" -v b="$t1" -v n="$N" 'BEGIN {printf "%.3f", (b-a)/1e3/n}')"
}

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

SP=$(free_port); RP=$(free_port)
"$SETD" --port "$SP" --bind 127.0.0.1 --loglevel warning --save "" >/dev/null 2>&1 & SPID=$!; PIDS+=($SPID)
redis-server --port "$RP" --bind 127.0.0.1 --save "" --logfile /dev/null >/dev/null 2>&1 & RPID=$!; PIDS+=($RPID)
wait_ping "$SP"; wait_ping "$RP"
# key:set already holds every member the runs use, so every run does the
# same work whatever ran before it.
fill() { python3 -c '
import sys
for i in range(0, 100000, 1000):
    args = ["SADD", "key:set"] + [str(j) for j in range(i, i + 1000)]
    sys.stdout.write("*%d\r\n" % len(args) + "".join("$%d\r\n%s\r\n" % (len(a), a) for a in args))
'; }
for port in "$SP" "$RP"; do
  redis-cli -p "$port" acl setuser bench "${RULES[@]}" >/dev/null
  fill | redis-cli -p "$port" --pipe >/dev/null
done

echo "P$P, $N requests, $C clients, median of $ROUNDS; user bench: ${RULES[*]}"
printf '%-10s %-7s %12s %12s %9s %9s %7s\n' test server rps_default rps_bench us_default us_bench cost
for test in sadd sismember; do
  for server in setd redis; do
    if [[ $server == setd ]]; then port=$SP pid=$SPID; else port=$RP pid=$RPID; fi
    dr=(); br=(); dc=(); bc=()
    for round in $(seq "$ROUNDS"); do
      # Alternate which user goes first.
      if ((round % 2)); then
        read -r r c < <(run "$port" "$pid" "$test"); dr+=("$r"); dc+=("$c")
        read -r r c < <(run "$port" "$pid" "$test" --user bench -a benchpw); br+=("$r"); bc+=("$c")
      else
        read -r r c < <(run "$port" "$pid" "$test" --user bench -a benchpw); br+=("$r"); bc+=("$c")
        read -r r c < <(run "$port" "$pid" "$test"); dr+=("$r"); dc+=("$c")
      fi
    done
    d_r=$(median_of "${dr[@]}"); b_r=$(median_of "${br[@]}")
    d_c=$(median_of "${dc[@]}"); b_c=$(median_of "${bc[@]}")
    cost=$(awk -v a="$d_c" -v b="$b_c" 'BEGIN {if (a > 0) printf "%+.1f%%", (b/a-1)*100; else print "n/a"}')
    printf '%-10s %-7s %12s %12s %9s %9s %7s\n' "$test" "$server" "$d_r" "$b_r" "$d_c" "$b_c" "$cost"
  done
done
