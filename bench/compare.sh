#!/usr/bin/env bash
# Side-by-side throughput of setd and redis-server 7.0 under the same
# redis-benchmark workloads, started on free loopback ports and stopped at the
# end. Prints requests/second for each and the setd/redis ratio.
#
# usage: bash bench/compare.sh [-n requests] [-c clients] [workload ...]
#   workloads: ping ping_p16 (default: all known)
# Needs: a built setd (bash .ci/build setd), redis-server and redis-benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."
N=200000
C=50
while getopts "n:c:" opt; do
  case $opt in
    n) N=$OPTARG ;;
    c) C=$OPTARG ;;
    *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))
SETD=${SETD:-build/bin/setd}
[[ -x $SETD ]] || { echo "build setd first: bash .ci/build setd" >&2; exit 1; }

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])' 2>/dev/null ||
  shuf -i 20000-60000 -n 1; }
wait_ping() { for _ in $(seq 100); do redis-cli -p "$1" ping >/dev/null 2>&1 && return 0; sleep 0.1; done; return 1; }

SP=$(free_port); RP=$(free_port)
"$SETD" --port "$SP" --bind 127.0.0.1 --loglevel warning >/dev/null 2>&1 & SPID=$!
redis-server --port "$RP" --bind 127.0.0.1 --save '' --appendonly no --logfile /dev/null >/dev/null 2>&1 & RPID=$!
trap 'kill $SPID $RPID 2>/dev/null; wait $SPID $RPID 2>/dev/null' EXIT
wait_ping "$SP"; wait_ping "$RP"

# name | redis-benchmark arguments (after -n/-c) | setup commands (redis-cli, one per line)
declare -A ARGS SETUP
ARGS[ping]="-P 1 -t ping_mbulk"
ARGS[ping_p16]="-P 16 -t ping_mbulk"
ORDER=(ping ping_p16)
# Later workloads are registered by bench/workloads.d/*.sh (set commands).
for f in bench/workloads.d/*.sh; do [[ -f $f ]] && source "$f"; done

(($#)) && ORDER=("$@")

rps() {  # port, workload -> requests per second
  local port=$1 w=$2
  if [[ -n ${SETUP[$w]:-} ]]; then
    redis-cli -p "$port" flushall >/dev/null
    eval "${SETUP[$w]}"
  fi
  # --csv before the workload: arguments after a command name belong to it.
  # shellcheck disable=SC2086
  redis-benchmark -p "$port" -n "$N" -c "$C" --csv ${ARGS[$w]} 2>/dev/null |
    awk -F'","' 'NR>1 {gsub(/"/,"",$2); print $2; exit}'
}

printf '%-22s %14s %14s %8s\n' workload setd_rps redis_rps ratio
for w in "${ORDER[@]}"; do
  s=$(PORT=$SP rps "$SP" "$w"); r=$(PORT=$RP rps "$RP" "$w")
  ratio=$(awk -v a="$s" -v b="$r" 'BEGIN{ if (b>0) printf "%.2f", a/b; else print "n/a" }')
  printf '%-22s %14s %14s %8s\n' "$w" "$s" "$r" "$ratio"
done
