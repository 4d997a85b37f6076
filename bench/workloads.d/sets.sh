# Set-command workloads for bench/compare.sh (sourced by it).
#
#   sadd / sismember / smismember / srandmember   against a 1,000,000-member set
#                                                 whose members are what
#                                                 __rand_int__ -r 1000000 yields
#   smembers                                      of a 100-member set
#   small5_* / small100_*                         SISMEMBER, SADD (of members
#                                                 already there) and SMEMBERS
#                                                 on a 5- and a 100-member set
#                                                 of strings (small-set
#                                                 encodings)
#   sinter / sintercard / sunionstore             of two 10,000-member sets
#                                                 overlapping by half
# each at -P 1 and -P 16. The heavy set-algebra workloads run fewer requests
# (a later -n overrides compare.sh's).

# sets_fill KEY COUNT FORMAT [FIRST]: SADD COUNT members printf(FORMAT, i),
# i = FIRST.., to the server on $port, through redis-cli --pipe.
sets_fill() {
  python3 - "$1" "$2" "$3" "${4:-0}" <<'PY' | redis-cli -p "$port" --pipe >/dev/null
import sys
key, count, fmt, first = sys.argv[1].encode(), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
out = sys.stdout.buffer
batch = 1000
for base in range(first, first + count, batch):
    args = [b"SADD", key] + [(fmt % i).encode() for i in range(base, min(base + batch, first + count))]
    out.write(b"*%d\r\n" % len(args))
    out.write(b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
PY
}

SETS_BIG='sets_fill bigset 1000000 %012d'
SETS_TWO='sets_fill seta 10000 member:%d 0; sets_fill setb 10000 member:%d 5000'

for p in 1 16; do
  ARGS[sadd_p$p]="-P $p -r 1000000 sadd bigset __rand_int__"
  SETUP[sadd_p$p]=$SETS_BIG
  ARGS[sismember_p$p]="-P $p -r 1000000 sismember bigset __rand_int__"
  SETUP[sismember_p$p]=$SETS_BIG
  ARGS[smismember_p$p]="-P $p -r 1000000 smismember bigset __rand_int__ __rand_int__ __rand_int__ __rand_int__ __rand_int__"
  SETUP[smismember_p$p]=$SETS_BIG
  ARGS[srandmember_p$p]="-P $p srandmember bigset 10"
  SETUP[srandmember_p$p]=$SETS_BIG
  ARGS[smembers_p$p]="-P $p smembers set100"
  SETUP[smembers_p$p]='sets_fill set100 100 member:%d'
  ARGS[sinter_p$p]="-P $p -n 5000 sinter seta setb"
  SETUP[sinter_p$p]=$SETS_TWO
  ARGS[sintercard_p$p]="-P $p -n 5000 sintercard 2 seta setb"
  SETUP[sintercard_p$p]=$SETS_TWO
  ARGS[sunionstore_p$p]="-P $p -n 2000 sunionstore dst seta setb"
  SETUP[sunionstore_p$p]=$SETS_TWO
done
for n in 5 100; do
  for p in 1 16; do
    ARGS[small${n}_sismember_p$p]="-P $p -r $n sismember set$n m:__rand_int__"
    ARGS[small${n}_sadd_p$p]="-P $p -r $n sadd set$n m:__rand_int__"
    ARGS[small${n}_smembers_p$p]="-P $p smembers set$n"
    for w in sismember sadd smembers; do SETUP[small${n}_${w}_p$p]="sets_fill set$n $n m:%012d"; done
  done
done
for w in sadd sismember smismember srandmember smembers sinter sintercard sunionstore \
  small5_sismember small5_sadd small5_smembers small100_sismember small100_sadd \
  small100_smembers; do
  ORDER+=("${w}_p1" "${w}_p16")
done
