#!/usr/bin/env bash
# Side-by-side throughput of setd and redis-server 7.0 under the same
# redis-benchmark workloads, started on free loopback ports and stopped at the
# end. Prints requests/second for each, the setd/redis ratio, and each
# server's own CPU time per request.
#
# usage: bash bench/compare.sh [-n requests] [-c clients] [-r rounds] [workload ...]
#   workloads: ping ping_p16 (default: all known)
#
# Each workload is set up once on each server, then measured in `rounds`
# alternating runs (setd, redis, setd, redis, ...; default 5) and the median of
# each server's runs is printed: on a small shared machine a single run swings
# by ±20%, and alternating keeps a slow minute from landing on one side only.
# Needs: a built setd (bash .ci/build setd), redis-server and redis-benchmark.
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
shift $((OPTIND - 1))
SETD=${SETD:-build/bin/setd}
[[ -x $SETD ]] || { echo "build setd first: bash .ci/build setd" >&2; exit 1; }


SP=$(free_port); RP=$(free_port)
# No persistence, and an empty directory each: nothing is saved on exit, and
# no dump.rdb left in the working directory is loaded at start.
WORK=$(mktemp -d /var/tmp/setd-compare.XXXXXX)
mkdir "$WORK/s" "$WORK/r"
"$SETD" --port "$SP" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK/s" \
  --loglevel warning >/dev/null 2>&1 & SPID=$!
redis-server --port "$RP" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK/r" \
  --logfile /dev/null >/dev/null 2>&1 & RPID=$!
trap 'kill $SPID $RPID 2>/dev/null; wait $SPID $RPID 2>/dev/null; rm -rf "$WORK"' EXIT
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

prepare() {  # port, setup commands -> status (a setup may refuse: command missing)
  local port=$1 setup=$2
  [[ -z $setup ]] && return 0
  redis-cli -p "$port" flushall >/dev/null
  eval "$setup"
}

requests() {  # workload -> how many requests it sends (a -n in its ARGS wins)
  # shellcheck disable=SC2086
  set -- -n "$N" ${ARGS[$1]}
  local n=$N
  while (($#)); do [[ $1 == -n ]] && n=$2; shift; done
  echo "$n"
}

run() {  # port, pid, workload -> "rps cpu_us_per_request" (n/a when it failed)
  local port=$1 pid=$2 w=$3 out t0 t1
  t0=$(proc_ticks "$pid")
  # --csv before the workload: arguments after a command name belong to it.
  # shellcheck disable=SC2086
  out=$(redis-benchmark -p "$port" -n "$N" -c "$C" --csv ${ARGS[$w]} 2>/dev/null |
    awk -F'","' 'NR>1 {gsub(/"/,"",$2); print $2; exit}') || true
  t1=$(proc_ticks "$pid")
  awk -v r="${out:-n/a}" -v d=$((t1 - t0)) -v hz="$HZ" -v n="$(requests "$w")" \
    'BEGIN { if (r == "n/a") print "n/a n/a"; else printf "%s %.2f\n", r, d * 1e6 / hz / n }'
}

median() {  # numbers (or n/a) -> their median, n/a if any is n/a
  printf '%s\n' "$@" | sort -g | awk '/n\/a/ {bad=1} {v[NR]=$1}
    END { if (bad || NR == 0) print "n/a"; else if (NR % 2) print v[(NR+1)/2];
          else printf "%.2f\n", (v[NR/2] + v[NR/2+1]) / 2 }'
}

HZ=$(getconf CLK_TCK 2>/dev/null || echo 100)
steal_start

printf '%-22s %14s %14s %8s %9s %9s\n' workload setd_rps redis_rps ratio setd_us redis_us
self_rows=0
for w in "${ORDER[@]}"; do
  ss=() rr=() sc=() rc=()
  if [[ -n ${SELF[$w]:-} ]]; then
    # Both columns are setd: the setups switch a setting, so redo them each round.
    for ((i = 0; i < ROUNDS; i++)); do
      a=(n/a n/a) b=(n/a n/a)
      PORT=$SP prepare "$SP" "${SETUP[$w]:-}" && read -r -a a <<<"$(run "$SP" "$SPID" "$w")"
      PORT=$SP prepare "$SP" "${SETUP_B[$w]:-}" && read -r -a b <<<"$(run "$SP" "$SPID" "$w")"
      ss+=("${a[0]}") sc+=("${a[1]}") rr+=("${b[0]}") rc+=("${b[1]}")
    done
    w="$w*"; self_rows=1
  else
    okS=1 okR=1
    PORT=$SP prepare "$SP" "${SETUP[$w]:-}" || okS=0
    PORT=$RP prepare "$RP" "${SETUP[$w]:-}" || okR=0
    for ((i = 0; i < ROUNDS; i++)); do
      a=(n/a n/a) b=(n/a n/a)
      ((okS)) && read -r -a a <<<"$(run "$SP" "$SPID" "$w")"
      ((okR)) && read -r -a b <<<"$(run "$RP" "$RPID" "$w")"
      ss+=("${a[0]}") sc+=("${a[1]}") rr+=("${b[0]}") rc+=("${b[1]}")
    done
  fi
  [[ -n ${COMPARE_DEBUG:-} ]] && echo "  $w: setd ${ss[*]} (${sc[*]} us) | redis ${rr[*]} (${rc[*]} us)" >&2
  s=$(median "${ss[@]}"); r=$(median "${rr[@]}")
  ratio=$(awk -v a="$s" -v b="$r" 'BEGIN{ if (a+0>0 && b+0>0) printf "%.2f", a/b; else print "n/a" }')
  printf '%-22s %14s %14s %8s %9s %9s\n' "$w" "$s" "$r" "$ratio" "$(median "${sc[@]}")" \
    "$(median "${rc[@]}")"
done
echo "setd_us / redis_us: the server's own CPU time per request in microseconds (user +"
echo "system, median). At -P 1 redis-benchmark itself saturates a core, so the rps columns"
echo "measure the client as much as the server; these two measure the server alone (setd's"
echo "includes its polling for busy-poll-us after each input, time Redis spends asleep)."
((self_rows)) && echo "* setd only: first column after SETUP, second after SETUP_B (see bench/workloads.d)"
# A virtual machine whose host is busy loses CPU time to it ("steal"): the
# figures above are then noise, whatever the ratio says.
steal_report
exit 0
