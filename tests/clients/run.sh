#!/usr/bin/env bash
# Runs one client-library check against a fresh setd on a free port.
# usage: run.sh redis-py|node|redis-py-tls|node-tls <setd-binary> <work-dir>
# The -tls kinds make a CA and server and client certificates with openssl,
# start setd with TLS (client certificates required) and connect over TLS.
# Exit 77 (skipped) when the library cannot be had on this machine.
set -uo pipefail
kind=$1 setd=$2 work=$3
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work"
port=$(/usr/bin/python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
data=$(mktemp -d)
tls_server=() tls_client=()
if [[ $kind == *-tls ]]; then
  kind=${kind%-tls}
  tls_port=$(/usr/bin/python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
  bash "$here/../support/make_certs.sh" "$data" || { echo "openssl failed"; exit 1; }
  tls_server=(--tls-port "$tls_port" --tls-cert-file "$data/server.crt" --tls-key-file
    "$data/server.key" --tls-ca-cert-file "$data/ca.crt")
  tls_client=(--tls "$data/ca.crt" "$data/client.crt" "$data/client.key")
fi
"$setd" --port "$port" --bind 127.0.0.1 --loglevel warning --save "" --dir "$data" "${tls_server[@]}" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done
case $kind in
  redis-py)
    /usr/bin/python3 "$here/redis_py_check.py" "${tls_port:-$port}" "${tls_client[@]}"
    ;;
  node)
    command -v node >/dev/null && command -v npm >/dev/null || { echo "node/npm missing: skipped"; exit 77; }
    if [[ ! -d $work/node_modules/ioredis || ! -d $work/node_modules/redis ||
      ! -d $work/node_modules/redis5 ]]; then
      cp "$here/package.json" "$work/"
      (cd "$work" && timeout 300 npm install --no-audit --no-fund --silent >/dev/null 2>&1) ||
        { echo "npm install failed (no registry?): skipped"; exit 77; }
    fi
    NODE_PATH="$work/node_modules" node "$here/node_check.js" "${tls_port:-$port}" "${tls_client[@]}"
    ;;
  *) echo "unknown kind $kind"; exit 2 ;;
esac
