#!/usr/bin/env bash
# Throughput under eviction, setd beside redis-server 7.0 in the same run:
# both run with the same maxmemory and maxmemory-policy allkeys-lru, are
# first filled past the limit, then take SADD of new keys (set:__rand_int__
# over 100M names, so nearly every command creates a key and evicts one) at
# -P 16 (and -P 1 with --p1). Prints requests/second, the setd/redis ratio,
# each server's CPU time per request (as bench/compare.sh) and the keys each
# evicted during the measured runs.
#
# usage: bash bench/eviction_compare.sh [-n requests] [-c clients] [-r rounds]
#                                       [-m maxmemory] [--p1]
#
# Runs alternate between the servers and the median of `rounds` (default 5)
# is printed. Needs a built setd (bash .ci/build setd), redis-server and
# redis-benchmark. Prints figures; asserts nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
N=200000
C=50
ROUNDS=5
MAXMEM=32mb
PIPES=(16)
args=()
for a in "$@"; do
  if [[ $a == --p1 ]]; then PIPES=(1 16); else args+=("$a"); fi
done
set -- "${args[@]+"${args[@]}"}"
while getopts "n:c:r:m:" opt; do
  case $opt in
    n) N=$OPTARG ;;
    c) C=$OPTARG ;;
    r) ROUNDS=$OPTARG ;;
    m) MAXMEM=$OPTARG ;;
    *) exit 2 ;;
  esac
done
SETD=${SETD:-build/bin/setd}
[[ -x $SETD ]] || { echo "build setd first: bash .ci/build setd" >&2; exit 1; }

RANGE=100000000
SP=$(free_port); RP=$(free_port)
WORK=$(mktemp -d /var/tmp/setd-eviction-compare.XXXXXX)
opts=(--maxmemory "$MAXMEM" --maxmemory-policy allkeys-lru)
start_server setd "$SP" "$WORK/s" "${opts[@]}"; SPID=$SERVER_PID
start_server redis "$RP" "$WORK/r" "${opts[@]}"; RPID=$SERVER_PID
trap 'kill $SPID $RPID 2>/dev/null; wait $SPID $RPID 2>/dev/null; rm -rf "$WORK"' EXIT
wait_ping "$SP"; wait_ping "$RP"

bench() {  # port, pipeline, requests
  redis-benchmark -p "$1" -n "$3" -c "$C" -P "$2" -r "$RANGE" --csv \
    sadd set:__rand_int__ member 2>/dev/null |
    awk -F'","' 'NR>1 {gsub(/"/,"",$2); print $2; exit}'
}

# Past the limit first: fill until each server has evicted something.
for port in "$SP" "$RP"; do
  for _ in $(seq 40); do
    bench "$port" 16 200000 >/dev/null || true
    (($(info_field "$port" stats evicted_keys) > 0)) && break
  done
done

run() {  # port, pid, pipeline -> "rps cpu_us_per_request evicted"
  local port=$1 pid=$2 p=$3 out t0 t1 e0 e1
  e0=$(info_field "$port" stats evicted_keys)
  t0=$(proc_ticks "$pid")
  out=$(bench "$port" "$p" "$N") || true
  t1=$(proc_ticks "$pid")
  e1=$(info_field "$port" stats evicted_keys)
  awk -v r="${out:-n/a}" -v d=$((t1 - t0)) -v hz="$HZ" -v n="$N" -v e=$((e1 - e0)) \
    'BEGIN { if (r == "n/a") print "n/a n/a n/a"; else printf "%s %.2f %d\n", r, d * 1e6 / hz / n, e }'
}

median() {  # numbers (or n/a) -> their median, n/a if any is n/a
  printf '%s\n' "$@" | sort -g | awk '/n\/a/ {bad=1} {v[NR]=$1}
    END { if (bad || NR == 0) print "n/a"; else if (NR % 2) print v[(NR+1)/2];
          else printf "%.2f\n", (v[NR/2] + v[NR/2+1]) / 2 }'
}

HZ=$(getconf CLK_TCK 2>/dev/null || echo 100)
steal_start
echo "SADD set:__rand_int__ member (-r $RANGE), maxmemory $MAXMEM allkeys-lru, $N requests,"
echo "$C clients, median of $ROUNDS; keys held: setd $(redis-cli -p "$SP" dbsize), redis $(redis-cli -p "$RP" dbsize)"
printf '%-26s %12s %12s %7s %8s %8s %10s %10s\n' workload setd_rps redis_rps ratio setd_us \
  redis_us setd_evict redis_evict
for p in "${PIPES[@]}"; do
  ss=() rr=() sc=() rc=() se=() re=()
  for ((i = 0; i < ROUNDS; i++)); do
    read -r -a a <<<"$(run "$SP" "$SPID" "$p")"
    read -r -a b <<<"$(run "$RP" "$RPID" "$p")"
    ss+=("${a[0]}") sc+=("${a[1]}") se+=("${a[2]}") rr+=("${b[0]}") rc+=("${b[1]}") re+=("${b[2]}")
  done
  [[ -n ${COMPARE_DEBUG:-} ]] && echo "  P$p: setd ${ss[*]} (${sc[*]} us) | redis ${rr[*]} (${rc[*]} us)" >&2
  s=$(median "${ss[@]}"); r=$(median "${rr[@]}")
  ratio=$(awk -v a="$s" -v b="$r" 'BEGIN{ if (a+0>0 && b+0>0) printf "%.2f", a/b; else print "n/a" }')
  printf '%-26s %12s %12s %7s %8s %8s %10s %10s\n' "sadd_new_keys_evicting_p$p" "$s" "$r" \
    "$ratio" "$(median "${sc[@]}")" "$(median "${rc[@]}")" "$(median "${se[@]}")" \
    "$(median "${re[@]}")"
done
echo "setd_us / redis_us: the server's own CPU time per request in microseconds (user +"
echo "system, median); *_evict: keys evicted per run (median)."
steal_report
exit 0
