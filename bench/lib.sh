# Shared by the bench/*.sh scripts (sourced, never run).

# A free TCP port on 127.0.0.1 (a random high one if python3 is missing).
free_port() {
  python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])' 2>/dev/null ||
    shuf -i 20000-60000 -n 1
}

# Waits (up to 10 s) until the server on port $1 answers PING.
wait_ping() { for _ in $(seq 100); do redis-cli -p "$1" ping >/dev/null 2>&1 && return 0; sleep 0.1; done; return 1; }

# The median of the numbers given as arguments (the lower middle one for an
# even count).
median_of() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# Starts a server on 127.0.0.1:$2 with its files in directory $3: $1 is
# setd or redis (redis-server); the rest are more directives (--name value).
# No save points, no AOF, quiet logs. The pid is left in SERVER_PID.
start_server() {
  local kind=$1 port=$2 dir=$3; shift 3
  mkdir -p "$dir"
  case $kind in
    setd) "${SETD:-build/bin/setd}" --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
      --dir "$dir" --loglevel warning "$@" >/dev/null 2>&1 & ;;
    redis) redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" \
      --logfile /dev/null "$@" >/dev/null 2>&1 & ;;
    *) echo "start_server: unknown kind $kind" >&2; return 1 ;;
  esac
  # shellcheck disable=SC2034  # read by the caller
  SERVER_PID=$!
}

# The value of field $3 in INFO $2 of the server on port $1.
info_field() { redis-cli -p "$1" info "$2" 2>/dev/null | awk -F: -v f="$3" '$1 == f { sub(/\r$/, "", $2); print $2; exit }'; }

# Waits (up to $2 s, default 60) until the replica on port $1 reports
# master_link_status:up.
wait_link_up() {
  local deadline=$((SECONDS + ${2:-60}))
  until [[ $(info_field "$1" replication master_link_status) == up ]]; do
    ((SECONDS < deadline)) || return 1
    sleep 0.05
  done
}

# User + system clock ticks (getconf CLK_TCK a second) that process $1, all
# its threads, has used so far.
proc_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

# Resident memory of process $1 in KiB (VmRSS).
rss_kb() { awk '/^VmRSS:/ {print $2; exit}' "/proc/$1/status" 2>/dev/null || echo 0; }

# requests/second of one redis-benchmark run against port $1 (the rest are
# its arguments; the test's name must come last), n/a when it failed.
bench_rps() {
  local port=$1 out; shift
  out=$(redis-benchmark -p "$port" --csv "$@" 2>/dev/null |
    awk -F'","' 'NR>1 {gsub(/"/,"",$2); print $2; exit}') || true
  echo "${out:-n/a}"
}

# Host steal (CPU time a busy VM host took from us) between steal_start and
# steal_report: the figures of a run with much of it are noise.
cpu_times() { awk '/^cpu / {t=0; for (i=2;i<=NF;i++) t+=$i; print t, $9; exit}' /proc/stat 2>/dev/null; }
steal_start() { read -r STEAL_T0 STEAL_S0 <<<"$(cpu_times)" || true; }
steal_report() {
  local t1 s1
  read -r t1 s1 <<<"$(cpu_times)" || true
  if [[ -n ${STEAL_T0:-} && -n ${t1:-} ]] && ((t1 > STEAL_T0)); then
    awk -v s=$((s1 - STEAL_S0)) -v t=$((t1 - STEAL_T0)) 'BEGIN {
      p = 100 * s / t; printf "host steal during the run: %.1f%% of CPU time", p
      if (p > 5) printf " (high: rerun on a quieter machine before trusting the ratios)"
      print "" }'
  fi
}
