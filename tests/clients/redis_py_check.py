"""An app written for Redis, run unchanged against setd through redis-py.

Usage: python3 redis_py_check.py <port> [--tls <ca> <cert> <key>]. With --tls
every connection is TLS, checking the server against the CA and showing the
client certificate. Exits non-zero on the first failed
expectation, 77 when redis-py is not installed (CTest counts it as skipped).
"""
import sys
import threading
import time

try:
    import redis
except ImportError:
    print("redis-py not installed: skipped")
    sys.exit(77)

port = int(sys.argv[1])

# How every connection of this check is made (the ACL checks add a username
# and password to it, so with --tls they run over TLS too).
conn = {"port": port}
if sys.argv[2:3] == ["--tls"]:
    ca, cert, key = sys.argv[3:6]
    conn.update(ssl=True, ssl_cert_reqs="required", ssl_ca_certs=ca, ssl_certfile=cert,
                ssl_keyfile=key)


def check(cond, what):
    if not cond:
        print("FAILED:", what)
        sys.exit(1)


for protocol in (2, 3):
    kwargs = {"protocol": protocol} if protocol == 3 and redis.__version__ >= "5" else {}
    if protocol == 3 and not kwargs:
        continue
    r = redis.Redis(decode_responses=True, **conn, **kwargs)
    r.flushall()
    check(r.ping(), "ping")

    # Prefixed keys with TTLs, strings and sets.
    r.set("app:config:mode", "fast", ex=100)
    check(r.get("app:config:mode") == "fast", "get")
    check(0 < r.ttl("app:config:mode") <= 100, "ttl")
    for uid in range(50):
        r.sadd(f"app:user:{uid}:tags", "a", "b", str(uid))
        r.expire(f"app:user:{uid}:tags", 300)
    check(r.smembers("app:user:7:tags") == {"a", "b", "7"}, "smembers")
    check(r.sismember("app:user:7:tags", "a"), "sismember")
    check(r.scard("app:user:7:tags") == 3, "scard")
    check(r.sinter("app:user:1:tags", "app:user:2:tags") == {"a", "b"}, "sinter")
    check(r.incr("app:counter") == 1 and r.incrby("app:counter", 5) == 6, "incr")

    # Pipelines are MULTI/EXEC transactions by default.
    with r.pipeline() as p:
        p.sadd("app:pipe", 1, 2, 3).scard("app:pipe").smembers("app:pipe")
        res = p.execute()
    check(res[0] == 3 and res[1] == 3 and res[2] == {"1", "2", "3"}, "pipeline")

    # Optimistic locking with WATCH.
    def incr_tx(pipe):
        v = int(pipe.get("app:cas") or 0)
        pipe.multi()
        pipe.set("app:cas", v + 1)

    for _ in range(5):
        r.transaction(incr_tx, "app:cas")
    check(r.get("app:cas") == "5", "watch transaction")

    # SCAN-based clearing of a prefix.
    deleted = 0
    for key in r.scan_iter(match="app:user:*", count=7):
        deleted += r.delete(key)
    check(deleted == 50, f"scan_iter delete ({deleted})")
    check(list(r.scan_iter(match="app:user:*")) == [], "prefix cleared")

    # SELECT through a second connection.
    r1 = redis.Redis(db=1, decode_responses=True, **conn, **kwargs)
    r1.set("only-in-1", "x")
    check(r.get("only-in-1") is None and r1.get("only-in-1") == "x", "select")

    # Pub/Sub, including set.* events.
    ps = r.pubsub()
    ps.psubscribe("set.*")
    ps.subscribe("news")
    time.sleep(0.1)
    r.publish("news", "hello")
    r.sadd("evt", "m")
    got = []
    deadline = time.time() + 3
    while time.time() < deadline and len(got) < 2:
        m = ps.get_message(timeout=0.2)
        if m and m["type"] in ("message", "pmessage"):
            got.append(m)
    check(len(got) == 2, f"pubsub messages {got}")
    check(got[0]["data"] == "hello", "message payload")
    check(got[1]["channel"] == "set.added" and '"event":"set.added"' in got[1]["data"],
          f"set event {got[1]}")
    ps.close()


def fails_with(prefix, fn, what, kind=redis.exceptions.RedisError):
    """fn() must raise a redis error (of class `kind`) whose text starts with `prefix`."""
    try:
        fn()
    except redis.exceptions.RedisError as e:
        check(isinstance(e, kind) and str(e).startswith(prefix), f"{what}: {type(e).__name__} {e}")
        return e
    check(False, f"{what}: no error")


# ACL users through redis-py's username=/password= and its acl_* helpers.
admin = redis.Redis(**conn, decode_responses=True)
check(admin.acl_setuser("app", enabled=True, passwords=["+apppw"], keys=["app:*"],
                        channels=["app.*"], commands=["+@set", "+get", "+set", "+ping",
                                                      "+acl|whoami", "+publish", "-@dangerous"]),
      "acl_setuser")
info = admin.acl_getuser("app")
check("on" in info["flags"] and len(info["passwords"]) == 1, f"acl_getuser {info}")
check("app" in admin.acl_users(), "acl_users")
check(any(line.startswith("user app on #") for line in admin.acl_list()), "acl_list")
admin.acl_log_reset()

app = redis.Redis(**conn, username="app", password="apppw", decode_responses=True)
check(app.acl_whoami() == "app", "whoami as app")
check(app.sadd("app:s", "a", "b") == 2 and app.smembers("app:s") == {"a", "b"}, "app's keys")
fails_with("this user has no permissions to access one of the keys",
           lambda: app.sadd("other:s", "a"), "key outside app:*")
fails_with("this user has no permissions to run the 'flushall' command",
           lambda: app.flushall(), "flushall denied")
fails_with("this user has no permissions to access one of the channels",
           lambda: app.publish("news", "x"), "channel outside app.*")
check(app.publish("app.events", "x") == 0, "publish to app.*")
log = admin.acl_log()
check(len(log) == 3 and {e["reason"] for e in log} == {"key", "command", "channel"},
      f"acl_log {log}")
check(all(e["username"] == "app" and e["client-info"]["user"] == "app" for e in log),
      f"acl_log users {log}")
check(admin.acl_dryrun("app", "get", "app:x") == "OK", "acl_dryrun allowed")
check("no permissions" in admin.acl_dryrun("app", "get", "x"), "acl_dryrun denied")

# Wrong passwords, disabled users.
fails_with("WRONGPASS", lambda: redis.Redis(**conn, username="app", password="bad").ping(),
           "wrong password")
admin.acl_setuser("app", enabled=False)
fails_with("WRONGPASS",
           lambda: redis.Redis(**conn, username="app", password="apppw").ping(),
           "disabled user")
check(app.ping(), "a disabled user's open connection keeps working")

# Deleting the user closes its connections.
check(admin.acl_deluser("app") == 1, "acl_deluser")
fails_with("", lambda: app.ping(), "deleted user's connection")

# requirepass: the default user's password.
check(admin.config_set("requirepass", "rp"), "config set requirepass")
fails_with("Authentication required", lambda: redis.Redis(**conn).ping(), "NOAUTH")
check(redis.Redis(**conn, password="rp").ping(), "password=")
check(redis.Redis(**conn, username="default", password="rp").ping(), "default user")
redis.Redis(**conn, password="rp").config_set("requirepass", "")
check(redis.Redis(**conn).ping(), "requirepass cleared")

# Scripts through redis-py: register_script (EVALSHA, and on NOSCRIPT a
# SCRIPT LOAD and EVALSHA again) and the Lock, whose release, extend and
# reacquire are registered Lua scripts.
sc = redis.Redis(**conn, decode_responses=True)
sc.flushall()
sc.script_flush()
sc.config_resetstat()
CHECK_AND_ADD = """
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 0 end
redis.call('SADD', KEYS[1], ARGV[1])
return 1
"""
check_and_add = sc.register_script(CHECK_AND_ADD)
check(check_and_add.sha == sc.script_load(CHECK_AND_ADD), "register_script sha")
check(check_and_add(keys=["py:seen"], args=["a"]) == 1, "check-and-add new member")
check(check_and_add(keys=["py:seen"], args=["a"]) == 0, "check-and-add member already there")
check(check_and_add(keys=["py:seen"], args=[7]) == 1, "check-and-add number argument")
check(sc.smembers("py:seen") == {"a", "7"}, "check-and-add effects")
check(sc.script_exists(check_and_add.sha) == [True], "script exists")
check(sc.script_flush() and sc.script_exists(check_and_add.sha) == [False], "script flush")
fails_with("No matching script", lambda: sc.evalsha(check_and_add.sha, 1, "py:seen", "b"),
           "evalsha after script flush")
# After SCRIPT FLUSH the Script object's EVALSHA gets NOSCRIPT and loads it again.
check(check_and_add(keys=["py:seen"], args=["b"]) == 1, "check-and-add after script flush")
check(check_and_add(keys=["py:seen"], args=["b"]) == 0, "check-and-add after reload")
check(sc.script_exists(check_and_add.sha) == [True], "reloaded by the client")
errs = sc.info("errorstats")
# (redis-py 4 leaves errorstats values unparsed: "count=2".)
check(str(errs.get("errorstat_NOSCRIPT")) in ("count=2", "{'count': 2}"), f"NOSCRIPT {errs}")
stats = sc.info("commandstats")
# The two NOSCRIPT replies are the only failed EVALSHA calls (a nested
# redis.call must not move the caller's failed-call mark).
check(stats["cmdstat_evalsha"]["calls"] == 7, f"evalsha stats {stats['cmdstat_evalsha']}")
check(stats["cmdstat_evalsha"]["failed_calls"] == 2, f"evalsha failed {stats['cmdstat_evalsha']}")
# EVAL (the body itself) and a script in a MULTI/EXEC pipeline after a flush:
# the pipeline checks SCRIPT EXISTS and loads it before EXEC.
check(sc.eval(CHECK_AND_ADD, 1, "py:seen", "c") == 1, "eval check-and-add")
sc.script_flush()
with sc.pipeline() as p:
    check_and_add(keys=["py:seen"], args=["d"], client=p)
    check_and_add(keys=["py:seen"], args=["d"], client=p)
    p.scard("py:seen")
    check(p.execute() == [1, 0, 5], "check-and-add in a pipeline")
check(sc.eval("return {1, 'two', {3}, redis.call('SCARD', KEYS[1])}", 1, "py:seen") ==
      [1, "two", [3], 5], "eval nested reply")
fails_with("WRONGTYPE", lambda: (sc.set("py:str", "x"), check_and_add(keys=["py:str"], args=["a"])),
           "script error from redis.call")

# redis.lock.Lock.
from redis.exceptions import LockError, LockNotOwnedError  # noqa: E402

lock = sc.lock("py:lock", timeout=10)
check(lock.acquire(blocking=False), "lock acquire")
check(lock.locked() and lock.owned(), "lock locked and owned")
check(9000 < sc.pttl("py:lock") <= 10000, f"lock ttl {sc.pttl('py:lock')}")
check(lock.extend(20), "lock extend")
check(20000 < sc.pttl("py:lock") <= 30000, f"extended ttl {sc.pttl('py:lock')}")
check(lock.extend(5, replace_ttl=True), "lock extend replace_ttl")
check(4000 < sc.pttl("py:lock") <= 5000, f"replaced ttl {sc.pttl('py:lock')}")
check(lock.reacquire(), "lock reacquire")
check(9000 < sc.pttl("py:lock") <= 10000, f"reacquired ttl {sc.pttl('py:lock')}")
# Another holder, in another client, waits and gives up.
other = redis.Redis(**conn, decode_responses=True).lock("py:lock", timeout=10, sleep=0.05)
t0 = time.monotonic()
check(not other.acquire(blocking=True, blocking_timeout=0.3), "blocked acquire times out")
check(0.25 < time.monotonic() - t0 < 3, "blocking_timeout respected")
check(not other.owned() and lock.owned(), "owner unchanged")
# Releasing or extending with a token that does not hold the lock fails in
# the release / extend / reacquire scripts (release forgets the token first).
other.local.token = "not-the-owner"
fails_with("Cannot release a lock that's no longer owned", other.release, "release by non-owner",
           LockNotOwnedError)
check(other.local.token is None, "release dropped the token")
other.local.token = "not-the-owner"
fails_with("Cannot extend a lock that's no longer owned", lambda: other.extend(5),
           "extend by non-owner", LockNotOwnedError)
fails_with("Cannot reacquire a lock that's no longer owned", other.reacquire,
           "reacquire by non-owner", LockNotOwnedError)
check(lock.owned(), "still owned after the other's attempts")
lock.release()
check(not lock.locked() and sc.exists("py:lock") == 0, "lock released")
fails_with("Cannot release an unlocked lock", lock.release, "release twice")
# A blocking acquire that succeeds once the holder's lock expires.
short = sc.lock("py:lock", timeout=0.4)
check(short.acquire(blocking=False), "short lock acquire")
waiter = redis.Redis(**conn, decode_responses=True).lock("py:lock", timeout=5, sleep=0.05)
t0 = time.monotonic()
check(waiter.acquire(blocking=True, blocking_timeout=5), "blocking acquire after expiry")
check(0.2 < time.monotonic() - t0 < 4, "acquired after the holder's ttl")
fails_with("Cannot release a lock that's no longer owned", short.release, "expired holder release",
           LockNotOwnedError)
waiter.release()
# The lock's scripts after SCRIPT FLUSH (NOSCRIPT, loaded again), and as a
# context manager.
sc.script_flush()
with sc.lock("py:lock", timeout=5, blocking_timeout=1) as held:
    check(held.extend(1) and held.reacquire(), "lock scripts after script flush")
check(sc.exists("py:lock") == 0, "context manager released")
# A holder whose lock is taken: the context manager's acquire gives up.
sc.set("py:lock", "someone-else")
fails_with("Unable to acquire lock", lambda: sc.lock("py:lock", blocking_timeout=0.2).__enter__(),
           "context manager on a held lock", LockError)

# Client-side caching. redis-py 4.3 (Debian 12's) speaks RESP2 only and has
# no cache of its own, so the app keeps one as Redis documents for RESP2:
# tracking redirected to a connection subscribed to __redis__:invalidate,
# whose messages evict keys from the local cache.
listener = redis.Redis(**conn, decode_responses=True, client_name="py-csc-listener")
inval = listener.pubsub()
inval.subscribe("__redis__:invalidate")
check(inval.get_message(timeout=2)["type"] == "subscribe", "subscribed to __redis__:invalidate")
sc.set("py:probe", "1")  # the listener is connected (its name is set) now
lid = next(int(c["id"]) for c in sc.client_list() if c["name"] == "py-csc-listener")
tracked = redis.Redis(**conn, decode_responses=True, single_connection_client=True)
# (redis-py 4.3 returns the raw "OK", later versions True.)
check(tracked.client_tracking_on(clientid=lid) in (True, "OK"), "client_tracking_on")
check(tracked.client_getredir() == lid, "client_getredir")
info = tracked.client_trackinginfo()
check(info[0] == "flags" and info[1] == ["on"] and info[3] == lid, f"client_trackinginfo {info}")
cache = {}


def cached_get(key):
    if key not in cache:
        cache[key] = tracked.get(key)
    return cache[key]


def drain_invalidations(expect, wait=3.0):
    """Applies invalidation messages until `expect` (a key, or None for a
    flush) was seen; False if it never came."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        m = inval.get_message(timeout=0.1)
        if not m or m["type"] != "message":
            continue
        check(m["channel"] == "__redis__:invalidate", f"invalidation channel {m}")
        if m["data"] is None:
            cache.clear()
            if expect is None:
                return True
            continue
        for k in m["data"]:
            cache.pop(k, None)
        if expect in m["data"]:
            return True
    return False


sc.set("py:csc:a", "1")
sc.sadd("py:csc:s", "x")
check(cached_get("py:csc:a") == "1" and cached_get("py:csc:a") == "1", "cached read")
sc.set("py:csc:a", "2")
check(drain_invalidations("py:csc:a"), "invalidation after SET")
check(cached_get("py:csc:a") == "2", "fresh value after invalidation")
check(tracked.smembers("py:csc:s") == {"x"}, "tracked smembers")
sc.sadd("py:csc:s", "y")
check(drain_invalidations("py:csc:s"), "invalidation after SADD")
cached_get("py:csc:a")
sc.flushall()
check(drain_invalidations(None), "flush invalidates everything")
check(cached_get("py:csc:a") is None, "flushed key reads as missing")
# BCAST with a prefix: changes to any key under it, unread.
tracked.client_tracking_off()
check(tracked.client_tracking_on(clientid=lid, bcast=True, prefix=["py:bc:"]) in (True, "OK"),
      "bcast on")
sc.set("py:bc:1", "v")
sc.set("py:other", "v")
check(drain_invalidations("py:bc:1"), "bcast invalidation")
check(tracked.client_trackinginfo()[5] == ["py:bc:"], "trackinginfo prefixes")
info_stats = sc.info("stats")
check(info_stats["tracking_total_prefixes"] == 1, f"tracking_total_prefixes {info_stats}")
check(sc.info("clients")["tracking_clients"] == 1, "tracking_clients")
tracked.client_tracking_off()
inval.close()
listener.close()
tracked.close()

print("redis-py checks passed")
