#!/usr/bin/env bash
# Replication, setd beside redis-server 7.0 in the same roles: a setd master
# with setd replicas, a redis master with redis replicas, all fresh, on free
# loopback ports, each in its own directory under /var/tmp, with no save
# points, no AOF and repl-diskless-sync-delay 0. Three parts:
#
# 1. Throughput: redis-benchmark SADD and SET (-c 50, at -P 1 and -P 16)
#    against the master with 0, 1 and 2 replicas attached (a new set of
#    servers for each count, replicas synced before the load). SET keys
#    among -r KEYSPACE; SADD members of its one set among -r 100000000, so
#    that nearly every SADD adds one and is replicated (a SADD of a member
#    already there changes nothing and sends nothing to the replicas).
#    Every run starts with FLUSHALL, the replicas level with the master.
#    ROUNDS alternating runs (setd, redis, setd, ...), medians printed with
#    setd_rps / redis_rps, and the CPU time (user + system, from /proc) per
#    request of the master (m_us) and of each replica (r_us, the mean of
#    the replicas): on a shared machine these move less than the rates.
# 2. Replica lag under that load: during each run with replicas,
#    repl_measure.py samples master_repl_offset on the master and
#    slave_repl_offset on every replica (INFO replication, every 50 ms);
#    lag = master's offset - a replica's. Printed: the mean and the max of
#    each run (medians over the rounds), and catch-up: ms from the end of the
#    load until every replica reached the master's offset at that moment.
# 3. Full sync of a ~GIB GiB dataset (sets "set:<i>" of 10,000 members
#    "member:<j>", plus strings of 100 bytes, sized so that redis-server's
#    RSS is about GIB GiB; the same data in both): a master filled once
#    through redis-cli --pipe, then for repl-diskless-sync yes and no a fresh
#    empty replica gets REPLICAOF; timed until its master_link_status is up
#    with every key loaded. Meanwhile the master is sampled every 20 ms: its
#    VmRSS growth plus, for Redis's forked child, the child's Private_Dirty
#    (its copy-on-write copies and own allocations): the peak of that sum is
#    the master's extra memory, printed in MiB and as % of the master's RSS
#    before the sync. First with an idle master, then (rows "+w", unless
#    -w 0) under WRITES commands/s rewriting random members of the data
#    (SREM + SADD of the same member: the data keeps its size but its pages
#    change while they are copied: copy-on-write for Redis's child).
#
# Ratios are "setd relative to redis, >= 1 is setd at least as good":
# setd_rps / redis_rps for throughput, redis_s / setd_s for sync time.
# redis-benchmark, the master and the replicas share the machine: on 2 cores
# the runs with replicas measure the whole system's efficiency as much as
# the master's.
#
# usage: bash bench/repl_compare.sh [-r rounds] [-g dataset_GiB] [-n requests]
#                                   [-k keyspace] [-s sync_rounds] [-w writes]
#                                   [--quick] [--only throughput|fullsync]
#   -r  throughput rounds per row (default 3)     -n  requests per -P 1 run
#   -g  dataset size in GiB (default 1)               (-P 16: 8x; default 200000)
#   -k  SET keyspace, -r (default 100000)         -s  full syncs per mode (1)
#   -w  writes/s during the loaded full syncs (default 20000; 0: none)
#   --quick: -r 1 -g 0.1 -n 50000 (a smoke run, under 2 minutes)
# SETD_ARGS: more directives for every setd (e.g. SETD_ARGS='--busy-poll-us 0').
# Needs a built setd (bash .ci/build setd), redis-server, redis-cli,
# redis-benchmark and python3. Prints figures; asserts nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
ROUNDS=3
GIB=1
N=200000
KEYSPACE=100000
SYNC_ROUNDS=1
WRITES=20000
ONLY=
while (($#)); do
  case $1 in
    -r) ROUNDS=$2; shift 2 ;;
    -g) GIB=$2; shift 2 ;;
    -n) N=$2; shift 2 ;;
    -k) KEYSPACE=$2; shift 2 ;;
    -s) SYNC_ROUNDS=$2; shift 2 ;;
    -w) WRITES=$2; shift 2 ;;
    --quick) ROUNDS=1 GIB=0.1 N=50000; shift ;;
    --only) ONLY=$2; shift 2 ;;
    *) sed -n '/^# usage/,/^# Needs/p' "$0" >&2; exit 2 ;;
  esac
done
SETD=${SETD:-$PWD/build/bin/setd}
export SETD
[[ -x $SETD ]] || { echo "build setd first: bash .ci/build setd" >&2; exit 1; }
MEASURE="python3 $PWD/bench/repl_measure.py"

W=$(mktemp -d /var/tmp/replbench.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT

# Starts a server (kind, name, more directives) with its own directory;
# leaves its port in PORT and pid in SERVER_PID.
launch() {
  local kind=$1 name=$2; shift 2
  PORT=$(free_port)
  local extra=()
  # shellcheck disable=SC2206
  [[ $kind == setd ]] && extra=(${SETD_ARGS:-})
  start_server "$kind" "$PORT" "$W/$name" --repl-diskless-sync-delay 0 "${extra[@]}" "$@"
  PIDS+=("$SERVER_PID")
  wait_ping "$PORT" || { echo "$kind ($name) did not start" >&2; exit 1; }
}
# Stops the server with pid $1 listening on port $2 and waits for it.
stop_server() {
  redis-cli -p "$2" shutdown nosave >/dev/null 2>&1 || kill "$1" 2>/dev/null || true
  while kill -0 "$1" 2>/dev/null; do sleep 0.02; done
  wait "$1" 2>/dev/null || true
}
median() {  # numbers (n/a ignored) -> their median (n/a when none)
  printf '%s\n' "$@" | awk '$1 != "n/a" && $1 != "nan" && $1 != ""' | sort -g |
    awk '{v[NR]=$1} END { if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR+1)/2];
                          else printf "%.1f\n", (v[NR/2] + v[NR/2+1]) / 2 }'
}
HZ=$(getconf CLK_TCK 2>/dev/null || echo 100)
replica_ticks() {  # pids (one word, space-separated) -> their clock ticks, summed
  local t=0 p
  for p in $1; do t=$((t + $(proc_ticks "$p"))); done
  echo "$t"
}
us_per_request() {  # ticks, requests, processes -> CPU microseconds per request per process
  awk -v d="$1" -v n="$2" -v k="$3" -v hz="$HZ" 'BEGIN { printf "%.2f", d * 1e6 / hz / n / k }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a+0>0 && b+0>0) printf "%.2f", a/b; else print "n/a" }'; }

echo "repl_compare: setd $("$SETD" --version 2>/dev/null | head -1) vs $(redis-server --version | awk '{print $3}')," \
  "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
steal_start
T_START=$SECONDS

# --- 1 and 2: throughput and lag ---------------------------------------------------------
if [[ -z $ONLY || $ONLY == throughput ]]; then
  WORKLOADS=("sadd 1" "sadd 16" "set 1" "set 16")
  echo
  echo "throughput: redis-benchmark -c 50 (SET -r $KEYSPACE, SADD -r 100000000), -n $N (P1) /" \
    "$((8 * N)) (P16), median of $ROUNDS round(s)"
  printf '%-9s %-10s %12s %12s %7s %9s %9s %9s %9s\n' replicas workload setd_rps redis_rps \
    ratio setd_m_us redis_m_us setd_r_us redis_r_us
  LAG_ROWS=()
  for nrep in 0 1 2; do
    declare -A MP MPID RPORTS RPIDS
    for kind in setd redis; do
      launch "$kind" "$kind-m$nrep"
      MP[$kind]=$PORT MPID[$kind]=$SERVER_PID
      ports=() pids=()
      for ((i = 0; i < nrep; i++)); do
        launch "$kind" "$kind-m$nrep-r$i"
        redis-cli -p "$PORT" replicaof 127.0.0.1 "${MP[$kind]}" >/dev/null
        ports+=("$PORT") pids+=("$SERVER_PID")
      done
      RPORTS[$kind]="${ports[*]}" RPIDS[$kind]="${pids[*]}"
      for p in "${ports[@]}"; do
        wait_link_up "$p" || { echo "$kind replica on $p did not sync" >&2; exit 1; }
      done
    done
    for wl in "${WORKLOADS[@]}"; do
      read -r test pipe <<<"$wl"
      n=$N; ((pipe > 1)) && n=$((8 * N))
      declare -A RPS=() MEAN=() MAX=() CATCH=() MUS=() RUS=()
      for ((round = 0; round < ROUNDS; round++)); do
        for kind in setd redis; do
          redis-cli -p "${MP[$kind]}" flushall >/dev/null
          # shellcheck disable=SC2086
          ((nrep == 0)) || $MEASURE level "${MP[$kind]}" ${RPORTS[$kind]}
          range=$KEYSPACE
          [[ $test == sadd ]] && range=100000000
          lagpid=
          if ((nrep > 0)); then
            # shellcheck disable=SC2086
            $MEASURE lag "${MP[$kind]}" ${RPORTS[$kind]} >"$W/lag.out" &
            lagpid=$!
          fi
          m0=$(proc_ticks "${MPID[$kind]}") r0=$(replica_ticks "${RPIDS[$kind]}")
          rps=$(bench_rps "${MP[$kind]}" -n "$n" -c 50 -P "$pipe" -r "$range" -t "$test")
          m1=$(proc_ticks "${MPID[$kind]}") r1=$(replica_ticks "${RPIDS[$kind]}")
          RPS[$kind]+=" $rps"
          MUS[$kind]+=" $(us_per_request $((m1 - m0)) "$n" 1)"
          if [[ -n $lagpid ]]; then
            kill -USR1 "$lagpid"
            wait "$lagpid" || true
            # The replicas' CPU includes their catch-up after the load.
            r1=$(replica_ticks "${RPIDS[$kind]}")
            RUS[$kind]+=" $(us_per_request $((r1 - r0)) "$n" "$nrep")"
            read -r mean max catch _ <"$W/lag.out"
            MEAN[$kind]+=" $mean" MAX[$kind]+=" $max" CATCH[$kind]+=" $catch"
          fi
        done
      done
      # shellcheck disable=SC2086
      s=$(median ${RPS[setd]}) r=$(median ${RPS[redis]})
      # shellcheck disable=SC2086
      printf '%-9s %-10s %12s %12s %7s %9s %9s %9s %9s\n' "$nrep" "${test^^} P$pipe" "$s" "$r" \
        "$(ratio "$s" "$r")" "$(median ${MUS[setd]})" "$(median ${MUS[redis]})" \
        "$(median ${RUS[setd]:-n/a})" "$(median ${RUS[redis]:-n/a})"
      if ((nrep > 0)); then
        # shellcheck disable=SC2086
        LAG_ROWS+=("$(printf '%-9s %-10s %10.0f %10.0f %10.0f %10.0f %9.1f %9.1f' "$nrep" \
          "${test^^} P$pipe" "$(median ${MEAN[setd]})" "$(median ${MEAN[redis]})" \
          "$(median ${MAX[setd]})" "$(median ${MAX[redis]})" "$(median ${CATCH[setd]})" \
          "$(median ${CATCH[redis]})")")
      fi
    done
    for kind in setd redis; do
      for p in ${RPORTS[$kind]}; do redis-cli -p "$p" shutdown nosave >/dev/null 2>&1 || true; done
      stop_server "${MPID[$kind]}" "${MP[$kind]}"
    done
    wait 2>/dev/null || true
    PIDS=()
    rm -rf "$W"/*-m"$nrep"*
    unset MP MPID RPORTS RPIDS
  done
  echo
  echo "replica lag under that load (bytes of stream; medians over the rounds of each run's"
  echo "mean and max), and catch-up: ms from the end of the load until every replica is level"
  printf '%-9s %-10s %10s %10s %10s %10s %9s %9s\n' replicas workload setd_mean redis_mean \
    setd_max redis_max setd_ms redis_ms
  printf '%s\n' "${LAG_ROWS[@]}"
fi

# --- 3: full sync ------------------------------------------------------------------------
if [[ -z $ONLY || $ONLY == fullsync ]]; then
  # About 1 GiB of redis-server RSS per 1,200 sets x 10,000 members plus
  # 1,200,000 strings of 100 bytes (setd holds the same data in less).
  SETS=$(awk -v g="$GIB" 'BEGIN { n = int(1200 * g + 0.5); print n < 1 ? 1 : n }')
  MEMBERS=10000
  STRINGS=$((SETS * 1000))
  echo
  echo "full sync: $SETS sets x $MEMBERS members + $STRINGS strings of 100 bytes" \
    "($((SETS * MEMBERS + STRINGS)) members and strings, $((SETS + STRINGS)) keys)"
  t0=$SECONDS
  $MEASURE gen "$SETS" "$MEMBERS" "$STRINGS" 100 >"$W/data.resp"
  echo "  generated $(($(stat -c %s "$W/data.resp") / 1048576)) MiB of RESP in $((SECONDS - t0)) s"
  declare -A SYNC_MS EXTRA PARENT CHILD BASE FILL IMAGE
  MODES=(yes no)
  if ((WRITES > 0)); then MODES+=(yes+w no+w); fi
  for kind in setd redis; do
    launch "$kind" "$kind-sync-m"
    mport=$PORT mpid=$SERVER_PID
    t0=$(date +%s.%N)
    redis-cli -p "$mport" --pipe <"$W/data.resp" >"$W/pipe.out" 2>&1 ||
      { cat "$W/pipe.out" >&2; exit 1; }
    FILL[$kind]=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    keys=$(redis-cli -p "$mport" dbsize)
    sleep 1  # let the allocator settle before the baseline
    echo "  $kind master: filled in ${FILL[$kind]} s, $keys keys, RSS $(($(rss_kb "$mpid") / 1024)) MiB"
    for mode in "${MODES[@]}"; do
      redis-cli -p "$mport" config set repl-diskless-sync "${mode%+w}" >/dev/null
      load=()
      [[ $mode == *+w ]] && load=(--load "$WRITES" "$SETS" "$MEMBERS")
      for ((round = 0; round < SYNC_ROUNDS; round++)); do
        launch "$kind" "$kind-sync-r"
        rport=$PORT rpid=$SERVER_PID
        read -r ms base extra parent child got _ < <($MEASURE --interval 0.02 fullsync \
          "${load[@]}" "$mport" "$mpid" "$rport")
        [[ $got == "$keys" ]] || echo "  warning: $kind replica holds $got keys, master $keys" >&2
        SYNC_MS[$kind$mode]+=" $ms" EXTRA[$kind$mode]+=" $extra" PARENT[$kind$mode]+=" $parent"
        CHILD[$kind$mode]+=" $child" BASE[$kind$mode]+=" $base"
        IMAGE[$kind$mode]=$(($(stat -c %s "$W/$kind-sync-r/dump.rdb" 2>/dev/null || echo 0) / 1048576))
        stop_server "$rpid" "$rport"
        rm -rf "$W/$kind-sync-r"
      done
    done
    stop_server "$mpid" "$mport"
    rm -rf "$W/$kind-sync-m"
  done
  rm -f "$W/data.resp"
  echo "time from REPLICAOF to link up with every key loaded (median of $SYNC_ROUNDS); the master's"
  echo "peak extra memory: VmRSS growth + forked child's Private_Dirty, % of its RSS before"
  printf '%-9s %8s %8s %7s %9s %17s %17s %s\n' diskless setd_s redis_s ratio image_MiB \
    "setd_extra" "redis_extra" "(redis parent+child MiB)"
  for mode in "${MODES[@]}"; do
    # shellcheck disable=SC2086
    ss=$(median ${SYNC_MS[setd$mode]}) rs=$(median ${SYNC_MS[redis$mode]})
    row=()
    for kind in setd redis; do
      # shellcheck disable=SC2086
      e=$(median ${EXTRA[$kind$mode]}) b=$(median ${BASE[$kind$mode]})
      row+=("$(awk -v e="$e" -v b="$b" 'BEGIN { printf "%.1f (%.2f%%)", e / 1024, 100 * e / b }')")
    done
    # shellcheck disable=SC2086
    printf '%-9s %8.2f %8.2f %7s %9s %17s %17s (%.1f + %.1f)\n' "$mode" \
      "$(awk -v v="$ss" 'BEGIN{print v/1000}')" "$(awk -v v="$rs" 'BEGIN{print v/1000}')" \
      "$(ratio "$rs" "$ss")" "${IMAGE[setd$mode]}/${IMAGE[redis$mode]}" "${row[0]}" "${row[1]}" \
      "$(awk -v v="$(median ${PARENT[redis$mode]})" 'BEGIN{print v/1024}')" \
      "$(awk -v v="$(median ${CHILD[redis$mode]})" 'BEGIN{print v/1024}')"
  done
  # shellcheck disable=SC2086
  echo "image_MiB: the dump each replica keeps (setd/redis); dataset RSS: setd" \
    "$(awk -v v="$(median ${BASE[setdyes]})" 'BEGIN{printf "%d", v/1024}') MiB, redis" \
    "$(awk -v v="$(median ${BASE[redisyes]})" 'BEGIN{printf "%d", v/1024}') MiB"
  if ((WRITES > 0)); then
    echo "+w: under $WRITES writes/s (SREM + SADD of random existing members) during the sync"
  fi
fi
echo
echo "total $((SECONDS - T_START)) s; load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
steal_report
exit 0
