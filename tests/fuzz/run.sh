#!/usr/bin/env bash
# Fuzz smoke test: builds the libFuzzer targets with clang (ASan + UBSan,
# CMake option SETD_FUZZ, build directory build-fuzz/ or $SETD_FUZZ_DIR),
# writes a seed corpus (dumps and DUMP payloads from redis-server 7.0 when
# it is installed, dumps, payloads and RESP requests from setd's own
# encoder, Lua scripts), then runs the three targets side by side for
# [seconds] (default 20).
#   setd_rdb_fuzz   decode_rdb() and restore_payload() on arbitrary bytes
#   setd_resp_fuzz  RequestParser on arbitrary bytes, fed in random pieces
#   setd_eval_fuzz  Lua scripts through EVAL / EVAL_RO / FCALL in-process,
#                   looping ones stopped by SCRIPT KILL past a 5 ms
#                   busy-reply-threshold
# Exits non-zero on any crash or sanitizer report (the reproducer is kept in
# build-fuzz/fuzz-artifacts/), 77 when clang or libFuzzer is missing (CTest
# counts that as skipped). Usage: tests/fuzz/run.sh [seconds]
set -euo pipefail
secs=${1:-20}
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=${SETD_FUZZ_DIR:-$root/build-fuzz}

if ! command -v clang++ >/dev/null 2>&1 || ! command -v clang >/dev/null 2>&1; then
  echo "fuzz: clang not installed: skipped"
  exit 77
fi
probe=$(mktemp -d /tmp/setd_fuzz_probe.XXXXXX)
if ! echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' |
  clang++ -x c++ -fsanitize=fuzzer,address,undefined - -o "$probe/probe" >/dev/null 2>&1; then
  rm -rf "$probe"
  echo "fuzz: clang cannot link libFuzzer (libclang-rt-*-dev missing): skipped"
  exit 77
fi
rm -rf "$probe"

mkdir -p "$dir"
exec 9>"$dir/.lock"  # one run at a time per build directory
flock 9 2>/dev/null || true

jobs=$(nproc 2>/dev/null || echo 2)
# -O1 and line tables only: reports still name files and lines, and a run
# from scratch takes 4m35 instead of 5m08 with -O2 -g (2 cores, alone).
flags="-O1 -gline-tables-only -DNDEBUG"
cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
  -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_FLAGS_RELWITHDEBINFO="$flags" \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$flags" -DSETD_FUZZ=ON -DSETD_BUILD_TESTS=OFF -DSETD_BUILD_BENCH=OFF \
  >"$dir/configure.log" 2>&1 || { cat "$dir/configure.log"; exit 1; }
cmake --build "$dir" -j "$jobs" --target setd_rdb_fuzz setd_resp_fuzz setd_eval_fuzz \
  setd_fuzz_seeds >"$dir/build.log" 2>&1 ||
  { tail -50 "$dir/build.log"; exit 1; }
bin=$dir/tests/fuzz

work=$(mktemp -d /tmp/setd_fuzz.XXXXXX)
redis_pid=
cleanup() {
  if [[ -n $redis_pid ]]; then kill "$redis_pid" 2>/dev/null || true; wait "$redis_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
for t in rdb resp eval; do mkdir -p "$work/${t}_seeds" "$work/${t}_corpus"; done
"$bin/setd_fuzz_seeds" "$work/rdb_seeds" "$work/resp_seeds" "$work/eval_seeds"

# Seeds from redis-server 7.0 itself: a SAVEd dump and DUMP payloads. It
# listens on a unix socket only, so no port can clash.
if command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; then
  sock=$work/redis.sock
  redis-server --port 0 --unixsocket "$sock" --dir "$work" --dbfilename redis.rdb --save '' \
    --appendonly no --logfile "$work/redis.log" --daemonize no &
  redis_pid=$!
  for _ in $(seq 100); do
    [[ -S $sock ]] && redis-cli -s "$sock" ping >/dev/null 2>&1 && break
    sleep 0.05
  done
  cli() { redis-cli -s "$sock" "$@" >/dev/null; }
  cli set str:int 12345
  cli set str:text hello
  cli set str:long "$(printf 'abc%.0s' $(seq 100))"
  cli sadd set:i16 1 2 3
  cli sadd set:i32 1 100000
  cli sadd set:i64 1 9223372036854775807
  cli sadd set:ht a b c 1
  cli set ttl:k v px 100000000
  cli hset other:hash f v
  cli rpush other:list a b
  cli zadd other:zset 1 a
  cli xadd other:stream '*' f v
  cli -n 3 sadd db3:s x
  cli save
  cp "$work/redis.rdb" "$work/rdb_seeds/redis-server.rdb"
  for k in str:int str:text str:long set:i16 set:i32 set:i64 set:ht other:hash; do
    # --raw prints the payload's bytes and a newline: drop the newline.
    redis-cli -s "$sock" --raw dump "$k" | head -c -1 >"$work/rdb_seeds/redis-dump-${k//:/_}.bin"
  done
  kill "$redis_pid" 2>/dev/null || true
  wait "$redis_pid" 2>/dev/null || true
  redis_pid=
fi

echo "fuzz: $(ls "$work/rdb_seeds" | wc -l) RDB/DUMP seeds ($(ls "$work/rdb_seeds" | grep -c redis || true) from redis-server), $(ls "$work/resp_seeds" | wc -l) RESP seeds, $(ls "$work/eval_seeds" | wc -l) Lua seeds"
artifacts=$dir/fuzz-artifacts
mkdir -p "$artifacts"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
run() {  # name max_len
  "$bin/setd_$1_fuzz" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len="$2" \
    -print_final_stats=1 -artifact_prefix="$artifacts/$1-" "$work/$1_corpus" "$work/$1_seeds" \
    >"$work/$1.log" 2>&1
}
run rdb 65536 &
rdb_job=$!
run resp 4096 &
resp_job=$!
run eval 4096 &
eval_job=$!
rdb_rc=0
resp_rc=0
eval_rc=0
wait "$rdb_job" || rdb_rc=$?
wait "$resp_job" || resp_rc=$?
wait "$eval_job" || eval_rc=$?
for t in rdb resp eval; do
  grep -E "^stat::number_of_executed_units" "$work/$t.log" | sed "s/^stat::number_of_executed_units:/fuzz $t: runs:/" || true
done
if ((rdb_rc != 0 || resp_rc != 0 || eval_rc != 0)); then
  for t in rdb resp eval; do
    rc_var=${t}_rc
    if ((${!rc_var} != 0)); then
      echo "---- setd_${t}_fuzz exited with ${!rc_var}; last lines of its log:"
      tail -60 "$work/$t.log"
    fi
  done
  echo "fuzz: FAILED; reproducers in $artifacts"
  exit 1
fi
echo "fuzz: the three targets ran ${secs}s without a crash"
