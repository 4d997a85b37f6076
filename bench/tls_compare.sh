#!/usr/bin/env bash
# TLS throughput of setd beside redis-server 7.0 in the same run: both
# started with the same certificates (made here with `openssl`: a CA, a
# server and a client certificate; tls-auth-clients yes), driven by
# `redis-benchmark --tls` on their TLS ports. Workloads are those of
# bench/workloads.d/sets.sh: SADD and SISMEMBER on a 1,000,000-member set at
# -P 1 and -P 16 by default. Rounds alternate between the servers and the
# median of each is printed, with the setd/redis ratio and each server's own
# CPU time per request (as bench/compare.sh).
#
# usage: bash bench/tls_compare.sh [-n requests] [-c clients] [-r rounds] [workload ...]
# Needs a built setd (bash .ci/build setd), redis-server, redis-benchmark and
# openssl. Prints figures; asserts nothing.
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
WANTED=("$@")
SETD=${SETD:-build/bin/setd}
[[ -x $SETD ]] || { echo "build setd first: bash .ci/build setd" >&2; exit 1; }

HZ=$(getconf CLK_TCK 2>/dev/null || echo 100)

# The workloads (ARGS, SETUP) and sets_fill, shared with bench/compare.sh.
declare -A ARGS SETUP SETUP_B SELF
ORDER=()
source bench/workloads.d/sets.sh
ORDER=(sadd_p1 sadd_p16 sismember_p1 sismember_p16)
((${#WANTED[@]})) && ORDER=("${WANTED[@]}")

CERTS=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$CERTS"
}
trap cleanup EXIT

# A CA, and a server and a client certificate it signed (EC P-256, as a
# modern deployment would use).
bash tests/support/make_certs.sh "$CERTS"
tls_args() { echo "--tls-port $1 --tls-cert-file $CERTS/server.crt --tls-key-file $CERTS/server.key --tls-ca-cert-file $CERTS/ca.crt"; }

# Each server: a plain port (set-up, shutdown) and a TLS port (measured).
SP=$(free_port); ST=$(free_port); RP=$(free_port); RT=$(free_port)
# shellcheck disable=SC2046
"$SETD" --port "$SP" $(tls_args "$ST") --bind 127.0.0.1 --loglevel warning --save "" \
  --dir "$CERTS" >/dev/null 2>&1 & SPID=$!; PIDS+=($SPID)
# shellcheck disable=SC2046
redis-server --port "$RP" $(tls_args "$RT") --bind 127.0.0.1 --save "" --appendonly no \
  --dir "$CERTS" --logfile /dev/null >/dev/null 2>&1 & RPID=$!; PIDS+=($RPID)
wait_ping "$SP"; wait_ping "$RP"

run() {  # tls-port pid workload -> "rps cpu_us_per_request"
  local port=$1 pid=$2 w=$3 out t0 t1
  t0=$(proc_ticks "$pid")
  # shellcheck disable=SC2086
  out=$(redis-benchmark -p "$port" --tls --cacert "$CERTS/ca.crt" --cert "$CERTS/client.crt" \
    --key "$CERTS/client.key" -n "$N" -c "$C" --csv ${ARGS[$w]} 2>/dev/null |
    awk -F'","' 'NR>1 {gsub(/"/,"",$2); print $2; exit}') || true
  t1=$(proc_ticks "$pid")
  awk -v r="${out:-0}" -v d=$((t1 - t0)) -v hz="$HZ" -v n="$N" \
    'BEGIN { printf "%s %.2f\n", r, d * 1e6 / hz / n }'
}

printf '%-16s %12s %12s %7s %9s %9s\n' workload setd_rps redis_rps ratio setd_us redis_us
for w in "${ORDER[@]}"; do
  [[ -n ${ARGS[$w]:-} ]] || { echo "unknown workload $w" >&2; exit 2; }
  for port in "$SP" "$RP"; do
    redis-cli -p "$port" flushall >/dev/null
    # shellcheck disable=SC2034  # used by sets_fill
    export port
    eval "${SETUP[$w]:-true}"
  done
  ss=() rr=() sc=() rc=()
  for _ in $(seq "$ROUNDS"); do
    read -r a ac <<<"$(run "$ST" "$SPID" "$w")"
    read -r b bc <<<"$(run "$RT" "$RPID" "$w")"
    ss+=("$a") sc+=("$ac") rr+=("$b") rc+=("$bc")
  done
  s=$(median_of "${ss[@]}"); r=$(median_of "${rr[@]}")
  printf '%-16s %12s %12s %7s %9s %9s\n' "$w" "$s" "$r" \
    "$(awk -v a="$s" -v b="$r" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')" \
    "$(median_of "${sc[@]}")" "$(median_of "${rc[@]}")"
done
echo "setd_us / redis_us: the server's own CPU time (user + system) per request, in microseconds."
