#!/usr/bin/env bash
# Cost of the instruments: per-command latency histograms (`latency-tracking
# yes` against `no`) and the metrics endpoint scraped once a second (a curl
# loop on /metrics against no scraper), on setd, and latency-tracking on
# redis-server 7.0 as a reference, all in the same run. Each pair runs on
# the same server, switched by CONFIG SET (or by starting/stopping the
# scraper), alternating which goes first each round. For each it prints
# requests per second and the server's CPU time per request (the main
# thread's, in µs, from /proc/<pid>/schedstat: steadier than throughput on a
# shared machine); "cost" is how much more CPU a request takes with the
# instrument on (target: at most 2%). setd runs with busy-poll-us 0: its
# polling after input spins for a time that depends on the client's pace,
# not on the work, and would be counted in its CPU time. The micro-benchmarks
# BM_LatencyHistogramRecord and BM_RenderMetrics (build/bench/setd_micro_bench
# --benchmark_filter='Record|Render') give the same two costs without the
# network and the noise of a shared machine.
#
# usage: bash bench/instruments_cost.sh [-n requests] [-c clients] [-r rounds] [-P pipeline]
# Needs a built setd (bash .ci/build setd), redis-server, redis-benchmark and
# curl. Prints figures; asserts nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
N=2000000
C=50
ROUNDS=5
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
command -v curl >/dev/null || { echo "curl is needed (the scraper)" >&2; exit 1; }

cpu_ns() { awk '{print $1}' "/proc/$1/schedstat"; }

# run <port> <pid> <test> -> "rps cpu_us_per_request"
run() {
  local port=$1 pid=$2 test=$3
  local t0 t1 out rps cmd
  case $test in
    sadd) cmd=(sadd key:set __rand_int__) ;;
    sismember) cmd=(sismember key:set __rand_int__) ;;
  esac
  t0=$(cpu_ns "$pid")
  out=$(redis-benchmark -p "$port" -n "$N" -c "$C" -P "$P" -r 100000 -q "${cmd[@]}" 2>/dev/null)
  t1=$(cpu_ns "$pid")
  rps=$(awk -F'[: ]+' '{for (i=1;i<=NF;i++) if ($i ~ /^[0-9.]+$/ && $(i+1) == "requests") {print $i; exit}}' <<<"$out")
  echo "$rps $(awk -v a="$t0" -v b="$t1" -v n="$N" 'BEGIN {printf "%.4f", (b-a)/1e3/n}')"
}

PIDS=()
SCRAPER=""
SCRAPES=0
stop_scraper() {
  if [[ -n $SCRAPER ]]; then
    kill "$SCRAPER" 2>/dev/null || true
    wait "$SCRAPER" 2>/dev/null || true
    SCRAPER=""
  fi
}
cleanup() {
  stop_scraper
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -f "${SCRAPE_LOG:-}"
}
trap cleanup EXIT
SCRAPE_LOG=$(mktemp)

SP=$(free_port); RP=$(free_port); MP=$(free_port)
"$SETD" --port "$SP" --bind 127.0.0.1 --loglevel warning --save "" --metrics-port "$MP" --busy-poll-us 0 >/dev/null 2>&1 & SPID=$!; PIDS+=($SPID)
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
for port in "$SP" "$RP"; do fill | redis-cli -p "$port" --pipe >/dev/null; done

# The scraper: GET /metrics once a second, as Prometheus would (every 15 s
# by default: this is 15 times that). Each scrape's size and time go to
# SCRAPE_LOG.
start_scraper() {
  (while :; do
    curl -s -o /dev/null -w '%{size_download} %{time_total}\n' "http://127.0.0.1:$MP/metrics" >>"$SCRAPE_LOG" || true
    sleep 1
  done) &
  SCRAPER=$!
}

# set_variant <server> <variant> <on|off>
set_variant() {
  local port=$1 variant=$2 state=$3
  case $variant in
    tracking)
      redis-cli -p "$port" config set latency-tracking "$([[ $state == on ]] && echo yes || echo no)" >/dev/null
      ;;
    scrape)
      redis-cli -p "$port" config set latency-tracking yes >/dev/null
      if [[ $state == on ]]; then start_scraper; else stop_scraper; fi
      ;;
  esac
}

echo "P$P, $N requests, $C clients, median of $ROUNDS rounds (alternating order)"
echo "tracking: latency-tracking no -> yes; scrape: no scraper -> GET /metrics every second (latency-tracking yes)"
steal_start
printf '%-10s %-6s %-9s %11s %11s %9s %9s %7s\n' test server variant rps_off rps_on us_off us_on cost
for test in sadd sismember; do
  for row in "setd tracking" "setd scrape" "redis tracking"; do
    read -r server variant <<<"$row"
    if [[ $server == setd ]]; then port=$SP pid=$SPID; else port=$RP pid=$RPID; fi
    offr=(); onr=(); offc=(); onc=()
    for round in $(seq "$ROUNDS"); do
      if ((round % 2)); then order=(off on); else order=(on off); fi
      for state in "${order[@]}"; do
        set_variant "$port" "$variant" "$state"
        read -r r c < <(run "$port" "$pid" "$test")
        [[ $variant == scrape ]] && stop_scraper
        if [[ $state == on ]]; then onr+=("$r"); onc+=("$c"); else offr+=("$r"); offc+=("$c"); fi
      done
    done
    o_r=$(median_of "${offr[@]}"); n_r=$(median_of "${onr[@]}")
    o_c=$(median_of "${offc[@]}"); n_c=$(median_of "${onc[@]}")
    cost=$(awk -v a="$o_c" -v b="$n_c" 'BEGIN {if (a > 0) printf "%+.1f%%", (b/a-1)*100; else print "n/a"}')
    printf '%-10s %-6s %-9s %11s %11s %9s %9s %7s\n' "$test" "$server" "$variant" "$o_r" "$n_r" "$o_c" "$n_c" "$cost"
  done
done
steal_report
if [[ -s $SCRAPE_LOG ]]; then
  awk '{n++; b+=$1; t+=$2; if ($2 > m) m = $2} END {
    printf "scrapes: %d, %.0f bytes each on average, %.2f ms average (%.2f ms worst) as curl saw them\n",
      n, b/n, 1000*t/n, 1000*m }' "$SCRAPE_LOG"
fi
# What one scrape costs the server, measured alone: 200 back-to-back scrapes.
t0=$(cpu_ns "$SPID")
for _ in $(seq 200); do curl -s -o /dev/null "http://127.0.0.1:$MP/metrics"; done
t1=$(cpu_ns "$SPID")
awk -v a="$t0" -v b="$t1" 'BEGIN {printf "one scrape: %.0f us of setd CPU (%.4f%% of a core at one scrape a second)\n", (b-a)/1e3/200, (b-a)/1e3/200/1e4}'
