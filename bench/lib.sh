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
