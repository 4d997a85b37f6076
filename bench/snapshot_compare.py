#!/usr/bin/env python3
"""Snapshot under write load, setd beside redis-server 7.0 in the same run.

Each server (fresh, on a free port, its own temp dir, no save points) gets
SETS sets of MEMBERS members each (default 400 x 25,000: ~760 MiB in Redis).
Then WRITERS clients loop: pipeline BATCH SADDs of new members to random
sets, wait for the replies, measure the round trip. After a second of load,
BGSAVE; the run goes on until the save is done and a second more. Printed
per server:

  extra_mem   the largest growth of memory during the save (PSS of the
              server plus any child process, from /proc/<pid>/smaps_rollup,
              sampled every 20 ms), as MiB and as a percentage of the
              server's PSS just before it (under the same load)
  save_s      seconds from the BGSAVE reply until INFO shows it finished
  worst_ms    the slowest BATCH-write round trip while the save ran
  p99_ms      99th percentile of those round trips
  before_ms   the slowest round trip in the second before BGSAVE (baseline)

usage: python3 bench/snapshot_compare.py [--sets N] [--members N] [--writers N]
                                          [--batch N] [--only setd|redis]
Needs a built setd (bash .ci/build setd) and redis-server. Prints figures;
asserts nothing.
"""
import argparse
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

import resp
from resp import encode

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Conn(resp.Conn):
    def count_replies(self, n):
        # Fast path for n simple replies (":1\r\n"): count CRLFs.
        seen = 0
        while seen < n:
            if not self.buf:
                self.buf = self.s.recv(1 << 16)
                if not self.buf:
                    raise EOFError
            k = self.buf.count(b"\r\n")
            if seen + k <= n:
                seen += k
                self.buf = b""
            else:
                idx = 0
                while seen < n:
                    idx = self.buf.index(b"\r\n", idx) + 2
                    seen += 1
                self.buf = self.buf[idx:]


def pss_kb(pid):
    total = 0
    pids = [pid]
    try:
        kids = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
        pids += [int(x) for x in kids.split()]
    except Exception:
        pass
    for p in pids:
        try:
            with open("/proc/%d/smaps_rollup" % p) as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def info_field(conn, section, field):
    text = conn.call("INFO", section).decode()
    for line in text.split("\r\n"):
        if line.startswith(field + ":"):
            return line.split(":", 1)[1]
    return None


def fill(port, sets, members):
    gen = subprocess.Popen(["redis-cli", "-p", str(port), "--pipe"], stdin=subprocess.PIPE,
                           stdout=subprocess.DEVNULL)
    batch = 1000
    for s in range(sets):
        key = b"set:%d" % s
        for base in range(0, members, batch):
            args = [b"SADD", key] + [b"member:%09d" % i for i in range(base, min(base + batch, members))]
            gen.stdin.write(encode(*args))
    gen.stdin.close()
    gen.wait()


def run(name, argv, sets, members, writers, batch):
    port = free_port()
    tmp = tempfile.mkdtemp(prefix="snapbench-")
    proc = subprocess.Popen(argv + ["--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                    "--appendonly", "no", "--dir", tmp],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                Conn(port).call("PING")
                break
            except OSError:
                time.sleep(0.1)
        t0 = time.time()
        fill(port, sets, members)
        ctl = Conn(port)
        print("  %-6s filled %d x %d in %.1f s" % (name, sets, members, time.time() - t0), flush=True)
        time.sleep(1.0)

        state = {"phase": "before", "stop": False}
        rtts = {"before": [], "during": [], "after": []}
        lock = threading.Lock()

        def writer(wid):
            c = Conn(port)
            rnd = random.Random(wid)
            n = 0
            while not state["stop"]:
                reqs = []
                for _ in range(batch):
                    reqs.append(encode(b"SADD", b"set:%d" % rnd.randrange(sets), b"new:%d:%d" % (wid, n)))
                    n += 1
                payload = b"".join(reqs)
                phase = state["phase"]
                t = time.perf_counter()
                c.s.sendall(payload)
                c.count_replies(batch)
                dt = (time.perf_counter() - t) * 1000
                with lock:
                    rtts[phase].append(dt)

        threads = [threading.Thread(target=writer, args=(w,), daemon=True) for w in range(writers)]
        for t in threads:
            t.start()
        time.sleep(1.0)
        # The baseline is taken under the same load, just before the save:
        # what the writers add meanwhile is not the snapshot's doing.
        base_pss = pss_kb(proc.pid)
        peak = base_pss
        state["phase"] = "during"
        t_save = time.time()
        reply = ctl.call("BGSAVE")
        while True:
            peak = max(peak, pss_kb(proc.pid))
            if info_field(ctl, "persistence", "rdb_bgsave_in_progress") == "0":
                break
            time.sleep(0.02)
        save_s = time.time() - t_save
        status = info_field(ctl, "persistence", "rdb_last_bgsave_status")
        state["phase"] = "after"
        time.sleep(1.0)
        state["stop"] = True
        for t in threads:
            t.join(timeout=5)
        during = sorted(rtts["during"])
        worst = during[-1] if during else float("nan")
        p99 = during[int(len(during) * 0.99)] if during else float("nan")
        before = max(rtts["before"]) if rtts["before"] else float("nan")
        extra_mb = (peak - base_pss) / 1024
        pct = 100.0 * (peak - base_pss) / base_pss if base_pss else float("nan")
        dump = os.path.join(tmp, "dump.rdb")
        size = os.path.getsize(dump) / 2**20 if os.path.exists(dump) else 0
        return {"name": name, "reply": reply, "status": status, "base_mb": base_pss / 1024,
                "extra_mb": extra_mb, "pct": pct, "save_s": save_s, "worst": worst, "p99": p99,
                "before": before, "batches": len(during), "dump_mb": size}
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", type=int, default=400)
    ap.add_argument("--members", type=int, default=25000)
    ap.add_argument("--writers", type=int, default=4)
    ap.add_argument("--batch", type=int, default=200)
    ap.add_argument("--only", choices=["setd", "redis"])
    a = ap.parse_args()
    setd = os.environ.get("SETD", os.path.join(ROOT, "build/bin/setd"))
    servers = [("setd", [setd, "--loglevel", "warning"]),
               ("redis", ["redis-server", "--logfile", "/dev/null"])]
    if a.only:
        servers = [s for s in servers if s[0] == a.only]
    print("snapshot under write load: %d sets x %d members, %d writers x %d SADDs per batch"
          % (a.sets, a.members, a.writers, a.batch))
    results = [run(n, argv, a.sets, a.members, a.writers, a.batch) for n, argv in servers]
    print("%-6s %9s %10s %8s %8s %9s %8s %10s %8s %s" % ("server", "base_MiB", "extra_MiB", "extra%",
                                                      "save_s", "worst_ms", "p99_ms",
                                                      "before_ms", "dump_MiB", "status"))
    for r in results:
        print("%-6s %9.0f %10.1f %7.1f%% %8.2f %9.1f %8.1f %10.1f %8.0f %s" % (
            r["name"], r["base_mb"], r["extra_mb"], r["pct"], r["save_s"], r["worst"], r["p99"],
            r["before"], r["dump_mb"], r["status"]))


if __name__ == "__main__":
    sys.exit(main())
