#!/usr/bin/env python3
"""Stream memory per entry: used_memory growth under XADD, per server.

For each --port (started empty by the caller), in the same run:
  1. `XADD s <id> f v` N times with IDs `1700000000000+i/10`-`i%10` (ten
     per millisecond), sampling INFO memory's used_memory before, after the
     first --first entries and after all N;
  2. `XADD t * f v` --first times, sampled before and after;
then checks that the DUMP payloads of the --first-entry prefix agree between
the servers (same node bytes) and deletes both keys. Commands go pipelined,
--batch at a time.

Prints, per server, bytes per entry for: the first --first explicit IDs, the
first --first `*` IDs, all N explicit IDs, and each entry past the first
--first (the growth from --first to N, which leaves out fixed costs such as
the key and the shard's buffers).

    redis-server --port 7390 --save '' --appendonly no --dir /tmp/rd &
    target/release/tessera --port 7400 --shards 1 --save '' --dir /tmp/ts &
    python3 scripts/mem-stream.py --port 7400 --port 7390 [--n 300000] [--first 100000]

Only the Python standard library is needed.
"""

import argparse
import time

from resp import Conn, RespError


def used_memory(c):
    info = c.call("INFO", "memory").decode()
    for line in info.split("\r\n"):
        if line.startswith("used_memory:"):
            return int(line.split(":")[1])
    raise RuntimeError("no used_memory in INFO memory")


def xadd(c, key, ids, batch):
    for start in range(0, len(ids), batch):
        for r in c.send([("XADD", key, i, "f", "v") for i in ids[start : start + batch]]):
            if isinstance(r, RespError):
                raise r


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, action="append", required=True)
    ap.add_argument("--n", type=int, default=300_000)
    ap.add_argument("--first", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=1000)
    a = ap.parse_args()
    ids = ["%d-%d" % (1700000000000 + i // 10, i % 10) for i in range(a.n)]
    rows, dumps = {}, {}
    for port in a.port:
        c = Conn(port)
        c.call("DEL", "s", "t")
        u0 = used_memory(c)
        xadd(c, "s", ids[: a.first], a.batch)
        u1 = used_memory(c)
        # On a connection of its own, closed before the next sample: the
        # ~1 MB reply would otherwise stay in this connection's buffers.
        d = Conn(port)
        dumps[port] = d.call("DUMP", "s")
        d.close()
        time.sleep(0.2)
        xadd(c, "s", ids[a.first :], a.batch)
        u2 = used_memory(c)
        assert int(c.call("XLEN", "s")) == a.n
        v0 = used_memory(c)
        xadd(c, "t", ["*"] * a.first, a.batch)
        v1 = used_memory(c)
        assert int(c.call("XLEN", "t")) == a.first
        c.call("DEL", "s", "t")
        rows[port] = [
            (u1 - u0) / a.first,
            (v1 - v0) / a.first,
            (u2 - u0) / a.n,
            (u2 - u1) / (a.n - a.first),
        ]
    names = [
        "bytes per entry, N = %d, explicit IDs" % a.first,
        "bytes per entry, N = %d, `XADD s * f v`" % a.first,
        "bytes per entry, N = %d, explicit IDs" % a.n,
        "each entry past the first %d" % a.first,
    ]
    print("| | " + " | ".join("port %d" % p for p in a.port) + " |")
    print("|---|" + "---|" * len(a.port))
    for i, name in enumerate(names):
        print("| %s | %s |" % (name, " | ".join("%.2f" % rows[p][i] for p in a.port)))
    # DUMP ends with the RDB version (2 bytes) and a CRC64 (8): compare the
    # payloads before them, and say whether the trailers agree too.
    base = dumps[a.port[0]]
    for p in a.port[1:]:
        d = dumps[p]
        print(
            "DUMP of the %d-entry stream, port %d vs %d: payload %s, trailer %s"
            % (a.first, a.port[0], p, "identical" if d[:-10] == base[:-10] else "DIFFERENT",
               "identical" if d[-10:] == base[-10:] else "different")
        )


if __name__ == "__main__":
    main()
