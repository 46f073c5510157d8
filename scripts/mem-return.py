#!/usr/bin/env python3
"""Does freed memory go back to the OS? Churn random-size values, then delete.

Writes values of random sizes (default 100 B - 10 KB) over a bounded key space
for a while (SET, with a share of DELs), so the allocator sees sustained frees
and reuse of every size; then deletes everything. Samples used_memory and
used_memory_rss (INFO memory) once a second through the churn, after the
deletes, and after MEMORY PURGE, and prints one CSV-ish table per server.

Usage:
    python3 scripts/mem-return.py --port 7400 [--port 7391 ...]
        [--keys 20000] [--seconds 30] [--min 100] [--max 10240] [--seed 1]
        [--maxmemory BYTES --policy allkeys-lru]

With --maxmemory the servers get that limit and policy first, the key space
should hold more than fits, and the report adds the highest used_memory seen
during the churn over the limit.

Each --port is measured in turn with the same seeded stream. Only the Python
standard library is needed.
"""

import argparse
import random
import time

from resp import Conn


def memory(c):
    info = c.call("INFO", "memory").decode()
    fields = dict(l.split(":", 1) for l in info.splitlines() if ":" in l)
    return int(fields["used_memory"]), int(fields["used_memory_rss"])


def run(port, a):
    c = Conn(port)
    c.call("FLUSHALL")
    c.call("CONFIG", "SET", "maxmemory", str(a.maxmemory), "maxmemory-policy", a.policy)
    rnd = random.Random(a.seed)
    blob = bytes(rnd.getrandbits(8) for _ in range(a.max))
    rows = []

    def sample(phase, t):
        used, rss = memory(c)
        rows.append((phase, t, used, rss))

    start = time.time()
    next_sample = start
    writes = 0
    while time.time() - start < a.seconds:
        cmds = []
        for _ in range(a.pipeline):
            k = "key:%d" % rnd.randrange(a.keys)
            if rnd.random() < a.dels:
                cmds.append(("DEL", k))
            else:
                n = rnd.randint(a.min, a.max)
                off = rnd.randrange(a.max - n + 1)
                cmds.append(("SET", k, blob[off : off + n]))
        c.send(cmds)
        writes += len(cmds)
        now = time.time()
        if now >= next_sample:
            sample("churn", now - start)
            next_sample += 1.0
    sample("churn-end", time.time() - start)
    peak_rss = max(r[3] for r in rows)
    # Delete everything key by key (frees spread over every size class).
    for base in range(0, a.keys, 1000):
        ks = ["key:%d" % i for i in range(base, min(base + 1000, a.keys))]
        c.call("DEL", *ks)
    t0 = time.time()
    sample("deleted", time.time() - start)
    time.sleep(2.0)
    sample("deleted+2s", time.time() - start)
    c.call("MEMORY", "PURGE")
    sample("purged", time.time() - start)
    return writes, rows, peak_rss


def mb(n):
    return "%.1f" % (n / 1048576)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, action="append", required=True)
    p.add_argument("--keys", type=int, default=20000)
    p.add_argument("--seconds", type=float, default=30)
    p.add_argument("--min", type=int, default=100)
    p.add_argument("--max", type=int, default=10240)
    p.add_argument("--dels", type=float, default=0.2, help="share of DELs in the churn")
    p.add_argument("--pipeline", type=int, default=50)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--every", type=int, default=5, help="print every Nth churn sample")
    p.add_argument("--maxmemory", type=int, default=0, help="bytes (0: no limit)")
    p.add_argument("--policy", default="allkeys-lru")
    a = p.parse_args()
    for port in a.port:
        server = Conn(port).call("INFO", "server").decode()
        name = "tessera" if "tessera_version" in server else "redis"
        writes, rows, peak_rss = run(port, a)
        print("# %s (port %d): %d commands, %d keys, values %d-%d B" % (name, port, writes, a.keys, a.min, a.max))
        print("phase        t(s)  used(MB)  rss(MB)  rss/used")
        churn = [r for r in rows if r[0] == "churn"]
        for i, (phase, t, used, rss) in enumerate(rows):
            if phase == "churn" and i % a.every and i != len(churn) - 1:
                continue
            print("%-11s %5.1f %9s %8s %8.2f" % (phase, t, mb(used), mb(rss), rss / max(used, 1)))
        steady = churn[len(churn) // 2 :]
        if steady:
            ratios = sorted(r[3] / max(r[2], 1) for r in steady)
            print("steady churn rss/used median %.2f, max %.2f; peak rss %s MB" % (
                ratios[len(ratios) // 2], ratios[-1], mb(peak_rss)))
        if a.maxmemory:
            top = max(r[2] for r in churn)
            print("maxmemory %s MB: highest used %s MB (%.3f of the limit)" % (
                mb(a.maxmemory), mb(top), top / a.maxmemory))
        print()


if __name__ == "__main__":
    main()
