# Sourced by bench/compare.sh: the cost of set.* events when nobody listens.
# SADD pipelined 16 deep on setd with `set-events all` versus `set-events none`
# and no subscriber (a setd-only row; redis-server has no set.* events).
# If SADD is not implemented yet the setup fails and the row prints n/a.
sadd_works() { [[ $(redis-cli -p "$PORT" sadd events:probe x 2>&1) != *ERR* ]]; }
ARGS[sadd_events_p16]="-P 16 -t sadd"
SETUP[sadd_events_p16]='sadd_works && redis-cli -p "$PORT" config set set-events all >/dev/null'
SETUP_B[sadd_events_p16]='sadd_works && redis-cli -p "$PORT" config set set-events none >/dev/null'
SELF[sadd_events_p16]=1
ORDER+=(sadd_events_p16)
