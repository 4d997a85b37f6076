"""An app that finds setd through Redis Sentinel with redis-py, across a failover.

Usage: python3 redis_py_sentinel_check.py <master-name> <sentinel-port>...

Run by tests/integration/sentinel_test.cpp (SentinelFailover), which starts
the setd master, its two replicas and three sentinels, waits for this script
to print "ready", then kills the master. The script, with redis-py's
redis.sentinel.Sentinel:
  - writes through master_for and has WAIT confirm the write on both
    replicas; reads it back through slave_for, from a replica (ROLE);
  - keeps writing through master_for (printing "ready" after 20 writes
    WAIT confirmed), retrying on the errors a dead master gives, until a
    write succeeds on a new master (one the sentinels name that is not the
    first);
  - reads everything WAIT confirmed from the new master and, through
    slave_for, from a replica of it.
Every step has a deadline. Exits non-zero on the first failed expectation,
77 when redis-py is not installed.
"""
import sys
import time

try:
    import redis
    from redis.sentinel import Sentinel
except ImportError:
    print("redis-py not installed")
    sys.exit(77)

name = sys.argv[1]
ports = [int(p) for p in sys.argv[2:]]
start = time.monotonic()


def log(*what):
    print(f"[{time.monotonic() - start:6.2f}s]", *what, flush=True)


def check(cond, what):
    if not cond:
        log("FAILED:", what)
        sys.exit(1)


def until(what, fn, seconds):
    """Calls fn until it returns something true, retrying on connection
    trouble (a dead master, a replica still syncing); fails after `seconds`."""
    deadline = time.monotonic() + seconds
    last = None
    while time.monotonic() < deadline:
        try:
            v = fn()
            if v:
                return v
            last = v
        except (redis.ConnectionError, redis.TimeoutError, redis.ReadOnlyError,
                redis.ResponseError) as e:
            last = repr(e)
        time.sleep(0.05)
    log("FAILED:", what, "- last:", last)
    sys.exit(1)


sentinel = Sentinel([("127.0.0.1", p) for p in ports], socket_timeout=1.0)
master = sentinel.master_for(name, socket_timeout=1.0, decode_responses=True)
replica = sentinel.slave_for(name, socket_timeout=1.0, decode_responses=True)

first = sentinel.discover_master(name)
log("master", first, "replicas", sentinel.discover_slaves(name))
check(len(sentinel.discover_slaves(name)) == 2, "the sentinels list two replicas")
check(master.execute_command("ROLE")[0] == "master", "master_for talks to a master")

members = {str(i) for i in range(20)}
check(master.sadd("py:before", *members) == 20, "SADD through master_for")
# WAIT's timeouts stay under the sockets' (1 s).
until("WAIT 2: both replicas have the write", lambda: master.wait(2, 500) == 2, 10)
check(replica.execute_command("ROLE")[0] == "slave", "slave_for talks to a replica")
check(replica.smembers("py:before") == members, "read back through slave_for")
check(replica.scard("py:before") == 20, "SCARD through slave_for")

# Write on, until a write lands on a master the sentinels name and that is
# not the first one; after 20 writes say "ready": the test kills the
# master then. A write counts as acknowledged when WAIT says both replicas
# have it (so it was on the old master: the new one has a single replica
# until the old one rejoins).
acked = []
tried = 0


def write_on_new_master():
    global tried
    tried += 1
    master.sadd("py:during", tried)
    if master.wait(2, 500) == 2:
        acked.append(tried)
        if len(acked) == 20:
            log("ready")
    now = sentinel.discover_master(name)
    return now != first and master.execute_command("ROLE")[0] == "master" and now


new = until("a write through master_for after the failover", write_on_new_master, 50)
log("new master", new, "after", len(acked), "acknowledged writes")
check(master.smembers("py:before") == members, "the WAIT-confirmed set on the new master")
during = {str(i) for i in acked}
check(during <= master.smembers("py:during"), "every acknowledged write on the new master")


def replica_of_new_master_has_everything():
    role = replica.execute_command("ROLE")
    return (role[0] == "slave" and (role[1], int(role[2])) == (new[0], new[1])
            and replica.smembers("py:before") == members
            and during <= replica.smembers("py:during"))


# slave_for now reads from the replica that followed the new master (the
# old master is down).
until("slave_for reads from a replica of the new master", replica_of_new_master_has_everything,
      30)
check(master.sadd("py:after", "x") == 1, "SADD through master_for")
until("WAIT 1 on the new master", lambda: master.wait(1, 500) == 1, 10)
until("the write after the failover read through slave_for",
      lambda: replica.smembers("py:after") == {"x"}, 10)
log("ok")
