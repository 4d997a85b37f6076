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


def fails_with(prefix, fn, what):
    """fn() must raise a redis error whose text starts with `prefix`."""
    try:
        fn()
    except redis.exceptions.RedisError as e:
        check(str(e).startswith(prefix), f"{what}: {type(e).__name__} {e}")
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

print("redis-py checks passed")
