#!/usr/bin/env python3
"""Measurement parts of bench/repl_compare.sh (run by it; not on its own).

  gen SETS MEMBERS STRINGS VALUE_BYTES
      RESP for redis-cli --pipe on stdout: SETS sets "set:<i>" of MEMBERS
      members "member:<j>" each (SADD, 1000 members per command), then
      STRINGS strings "str:<i>" of VALUE_BYTES bytes (MSET, 100 per command).

  lag MASTER_PORT REPLICA_PORT...
      Samples INFO replication every --interval s (master_repl_offset on the
      master, then slave_repl_offset on each replica) until SIGUSR1 (the load
      stopped), then polls every 2 ms until every replica has reached the
      master's offset as it was then. Prints one line:
      "<mean lag bytes> <max lag bytes> <catch-up ms> <samples>"
      (lag: master offset minus a replica's, every replica's samples pooled).

  level MASTER_PORT REPLICA_PORT...
      Waits (up to 60 s) until every replica has reached the master's
      current master_repl_offset.

  fullsync [--load OPS SETS MEMBERS] MASTER_PORT MASTER_PID REPLICA_PORT
      Baseline VmRSS of the master, then REPLICAOF on the replica, then polls
      the replica until master_link_status:up and its DBSIZE equals the
      master's, while a thread samples the master every --interval s: its
      VmRSS growth over the baseline plus, for each child process (Redis
      forks), Private_Dirty from /proc/<child>/smaps_rollup. Prints one line:
      "<sync ms> <base RSS KiB> <peak extra KiB> <peak parent growth KiB>
       <peak child private dirty KiB> <keys on the replica> <writes>"
      With --load, a thread keeps rewriting random members of the gen data
      (SREM then SADD of the same member of one of the SETS sets, so the
      dataset keeps its size) at about OPS commands a second, pipelined 100
      at a time, from REPLICAOF until the replica is up: the master's data
      changes while it is copied (copy-on-write for Redis's child, saves
      before change for setd's snapshot).
"""
import signal
import sys
import threading
import time

from resp import Conn, encode


def gen(sets, members, strings, value_bytes):
    out = sys.stdout.buffer
    batch = 1000
    for s in range(sets):
        key = b"set:%d" % s
        for base in range(0, members, batch):
            ms = [b"member:%d" % j for j in range(base, min(base + batch, members))]
            head = b"*%d\r\n$4\r\nSADD\r\n$%d\r\n%s\r\n" % (len(ms) + 2, len(key), key)
            out.write(head + b"".join(b"$%d\r\n%s\r\n" % (len(m), m) for m in ms))
    value = (b"v" * value_bytes)
    vpart = b"$%d\r\n%s\r\n" % (len(value), value)
    for base in range(0, strings, 100):
        ks = [b"str:%d" % i for i in range(base, min(base + 100, strings))]
        out.write(b"*%d\r\n$4\r\nMSET\r\n" % (2 * len(ks) + 1) +
                  b"".join(b"$%d\r\n%s\r\n" % (len(k), k) + vpart for k in ks))
    out.flush()


STOP = threading.Event()


def wait_level(m, reps, timeout=60):
    """Polls every 2 ms until every replica reached the master's offset as
    it is now; False if that takes more than `timeout` seconds."""
    target = int(m.info("replication")["master_repl_offset"])
    pending = list(reps)
    deadline = time.perf_counter() + timeout
    while pending and time.perf_counter() < deadline:
        pending = [r for r in pending
                   if int(r.info("replication").get("slave_repl_offset", "0")) < target]
        if pending:
            time.sleep(0.002)
    return not pending


def lag(master_port, replica_ports, interval):
    stop = STOP
    m = Conn(master_port)
    reps = [Conn(p) for p in replica_ports]
    lags = []
    while not stop.is_set():
        mo = int(m.info("replication")["master_repl_offset"])
        for r in reps:
            ro = int(r.info("replication").get("slave_repl_offset", "0"))
            lags.append(max(0, mo - ro))
        stop.wait(interval)
    t0 = time.perf_counter()
    caught_up = wait_level(m, reps)
    catchup = (time.perf_counter() - t0) * 1000 if caught_up else float("nan")
    if not reps:
        print("- - - 0")
        return
    mean = sum(lags) / len(lags) if lags else 0
    print("%.0f %d %.1f %d" % (mean, max(lags) if lags else 0, catchup, len(lags)))


def children(pid):
    kids = []
    try:
        import os
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
                kids += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return kids


def status_kb(pid, field):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def private_dirty_kb(pid):
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Private_Dirty:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def writer(port, ops, sets, members, done, count):
    import random
    c = Conn(port)
    rnd = random.Random(1)
    batch = 50  # pairs: SREM then SADD of the same member
    t0 = time.perf_counter()
    n = 0
    while not done.is_set():
        cmds = []
        for _ in range(batch):
            key = b"set:%d" % rnd.randrange(sets)
            member = b"member:%d" % rnd.randrange(members)
            cmds.append(encode(b"SREM", key, member) + encode(b"SADD", key, member))
        c.s.sendall(b"".join(cmds))
        got = 0
        while got < 2 * batch:  # count the replies (":1\r\n" each)
            chunk = c.s.recv(1 << 16)
            if not chunk:
                return
            got += chunk.count(b"\r\n")
        n += 2 * batch
        count[0] = n
        ahead = n / ops - (time.perf_counter() - t0)
        if ahead > 0:
            done.wait(ahead)


def fullsync(master_port, master_pid, replica_port, interval, load):
    m = Conn(master_port)
    r = Conn(replica_port)
    keys = m.call("DBSIZE")
    base = status_kb(master_pid, "VmRSS")
    peak = {"extra": 0, "parent": 0, "child": 0}
    done = threading.Event()

    def sampler():
        while not done.is_set():
            # Memory the parent gave back does not offset the child's.
            parent = max(0, status_kb(master_pid, "VmRSS") - base)
            child = sum(private_dirty_kb(k) for k in children(master_pid))
            peak["extra"] = max(peak["extra"], parent + child)
            peak["parent"] = max(peak["parent"], parent)
            peak["child"] = max(peak["child"], child)
            done.wait(interval)

    th = threading.Thread(target=sampler, daemon=True)
    th.start()
    count = [0]
    if load:
        wt = threading.Thread(target=writer, args=(master_port, load[0], load[1], load[2], done, count),
                              daemon=True)
        wt.start()
    t0 = time.perf_counter()
    r.call("REPLICAOF", "127.0.0.1", str(master_port))
    got = -1
    while True:
        info = r.info("replication")
        if info.get("master_link_status") == "up":
            got = r.call("DBSIZE")
            if got == keys:
                break
        time.sleep(0.005)
        if time.perf_counter() - t0 > 900:
            break
    ms = (time.perf_counter() - t0) * 1000
    done.set()
    th.join()
    print("%.0f %d %d %d %d %d %d" % (ms, base, peak["extra"], peak["parent"], peak["child"], got,
                                      count[0]))


def main():
    args = sys.argv[1:]
    interval = 0.05
    load = None
    if "--load" in args:
        i = args.index("--load")
        load = (float(args[i + 1]), int(args[i + 2]), int(args[i + 3]))
        del args[i:i + 4]
    if "--interval" in args:
        i = args.index("--interval")
        interval = float(args[i + 1])
        del args[i:i + 2]
    cmd, rest = args[0], args[1:]
    # Before anything else: the caller may signal the end of its load early.
    signal.signal(signal.SIGUSR1, lambda *_: STOP.set())
    signal.signal(signal.SIGTERM, lambda *_: STOP.set())
    if cmd == "gen":
        gen(*(int(x) for x in rest))
    elif cmd == "lag":
        lag(int(rest[0]), [int(p) for p in rest[1:]], interval)
    elif cmd == "level":
        if not wait_level(Conn(int(rest[0])), [Conn(int(p)) for p in rest[1:]]):
            sys.exit("replicas did not catch up within 60 s")
    elif cmd == "fullsync":
        fullsync(int(rest[0]), int(rest[1]), int(rest[2]), interval, load)
    else:
        sys.exit("unknown subcommand " + cmd)


if __name__ == "__main__":
    main()
