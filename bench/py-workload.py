#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""py-workload: a small real-program workload for the allocator benchmarks.

    PYTHONMALLOC=malloc python3 bench/py-workload.py [n=60000] [quick=1]

Run it with PYTHONMALLOC=malloc so that CPython's small objects go to malloc
instead of its own pool. It builds records (dicts, strings, tuples, lists),
sorts and groups them, round-trips them through JSON, and churns a dict.
Every stage checks its result; a failed check exits 3. An op is one record.
"""
import json
import sys
import time


def fail(msg):
    sys.stdout.flush()
    sys.stderr.write("bench: CHECK FAILED: %s\n" % msg)
    sys.exit(3)


def main():
    args = {"n": None, "quick": "0"}
    for a in sys.argv[1:]:
        k, sep, v = a.partition("=")
        if not sep or k not in args:
            sys.stderr.write("bench: unknown argument '%s'\n" % a)
            sys.exit(2)
        args[k] = v
    quick = args["quick"] == "1"
    n = int(args["n"]) if args["n"] is not None else (15000 if quick else 60000)

    t0 = time.perf_counter()
    x = 88172645463325252
    recs = []
    for i in range(n):
        x ^= (x << 13) & 0xFFFFFFFFFFFFFFFF
        x ^= x >> 7
        x ^= (x << 17) & 0xFFFFFFFFFFFFFFFF
        recs.append({"id": i, "key": "k%x" % (x & 0xFFFFF), "val": x % 1000,
                     "tags": ["t%d" % (x % 7), "u%d" % (x % 13)],
                     "pos": (x % 97, x % 89)})
    # sort and group
    recs.sort(key=lambda r: (r["key"], r["id"]))
    for a, b in zip(recs, recs[1:]):
        if (a["key"], a["id"]) > (b["key"], b["id"]):
            fail("sort order broken")
    groups = {}
    for r in recs:
        groups.setdefault(r["tags"][0], []).append(r["val"])
    if sum(len(v) for v in groups.values()) != n:
        fail("grouping lost records")
    total = sum(r["val"] for r in recs)
    # JSON round trip in chunks
    back = []
    for i in range(0, n, 1000):
        back.extend(json.loads(json.dumps(recs[i:i + 1000])))
    if len(back) != n or sum(r["val"] for r in back) != total:
        fail("json round trip changed the data")
    if back[n // 2]["key"] != recs[n // 2]["key"]:
        fail("json round trip changed a key")
    # dict churn: insert, delete half, rebuild strings
    d = {}
    for r in back:
        d[r["key"] + ":" + str(r["id"])] = r["pos"]
    for r in back[::2]:
        del d[r["key"] + ":" + str(r["id"])]
    if len(d) != n - (n + 1) // 2:
        fail("dict churn count wrong")
    text = ",".join(sorted(d))
    if text.count(",") != len(d) - 1:
        fail("join/split mismatch")
    del recs, back, d, groups, text
    secs = time.perf_counter() - t0
    print("RESULT bench=python n=%d ops=%d secs=%.4f mops=%.4g"
          % (n, n, secs, n / secs / 1e6 if secs > 0 else 0.0))


main()
