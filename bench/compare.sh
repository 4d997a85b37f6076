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
# A row with SELF[name]=1 runs on setd only, twice: after SETUP and after
# SETUP_B; its two columns are both setd and the ratio is SETUP/SETUP_B.
declare -A ARGS SETUP SETUP_B SELF
ARGS[ping]="-P 1 -t ping_mbulk"
ARGS[ping_p16]="-P 16 -t ping_mbulk"
ORDER=(ping ping_p16)
# Later workloads are registered by bench/workloads.d/*.sh (set commands).
for f in bench/workloads.d/*.sh; do [[ -f $f ]] && source "$f"; done

(($#)) && ORDER=("$@")

rps() {  # port, workload, setup commands -> requests per second, or n/a
  local port=$1 w=$2 setup=$3 out
  if [[ -n $setup ]]; then
    redis-cli -p "$port" flushall >/dev/null
    eval "$setup" || { echo n/a; return; }  # a setup may refuse (command missing)
  fi
  # --csv before the workload: arguments after a command name belong to it.
  # shellcheck disable=SC2086
  out=$(redis-benchmark -p "$port" -n "$N" -c "$C" --csv ${ARGS[$w]} 2>/dev/null |
    awk -F'","' 'NR>1 {gsub(/"/,"",$2); print $2; exit}') || true
  echo "${out:-n/a}"
}

printf '%-22s %14s %14s %8s\n' workload setd_rps redis_rps ratio
self_rows=0
for w in "${ORDER[@]}"; do
  if [[ -n ${SELF[$w]:-} ]]; then
    s=$(PORT=$SP rps "$SP" "$w" "${SETUP[$w]:-}"); r=$(PORT=$SP rps "$SP" "$w" "${SETUP_B[$w]:-}")
    w="$w*"; self_rows=1
  else
    s=$(PORT=$SP rps "$SP" "$w" "${SETUP[$w]:-}"); r=$(PORT=$RP rps "$RP" "$w" "${SETUP[$w]:-}")
  fi
  ratio=$(awk -v a="$s" -v b="$r" 'BEGIN{ if (a+0>0 && b+0>0) printf "%.2f", a/b; else print "n/a" }')
  printf '%-22s %14s %14s %8s\n' "$w" "$s" "$r" "$ratio"
done
((self_rows)) && echo "* setd only: first column after SETUP, second after SETUP_B (see bench/workloads.d)"
exit 0
