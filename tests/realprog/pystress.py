# Allocation stress for CPython (run with PYTHONMALLOC=malloc so that every
# object goes through malloc): dicts, lists, strings, bytes growing by
# realloc, json, and a few threads.  Prints deterministic digests.
import hashlib
import json
import threading


def digest(obj):
    return hashlib.sha256(repr(obj).encode()).hexdigest()[:16]


def dicts(n):
    d = {}
    for i in range(n):
        d["key-%d-%s" % (i, "x" * (i % 37))] = [i, str(i) * (i % 5)]
    for i in range(0, n, 2):
        del d["key-%d-%s" % (i, "x" * (i % 37))]
    nested = {k: {"v": v, "sq": {j: j * j for j in range(len(k) % 13)}}
              for k, v in d.items()}
    return len(d), digest(sorted(nested.items())[:500])


def lists(n):
    big = [[i, i * 3, str(i)] for i in range(n)]
    big.sort(key=lambda x: (x[0] * 7919) % 10007)
    sl = big[::3] + big[1::5]
    while len(sl) > 10:
        sl.pop()
        sl.pop(len(sl) // 2)
    acc = []
    for i in range(n):
        acc.append(tuple(range(i % 20)))
        if len(acc) > 1000:
            acc = acc[500:]
    return len(big), digest(sl), digest(acc[-50:])


def strings(n):
    s = ""
    for i in range(n):
        s += "%08x|" % (i * 2654435761 % 2**32)   # grows in place by realloc
    parts = s.split("|")
    joined = ",".join(p.upper() for p in parts if p)
    replaced = joined.replace("A", "<a>").replace("0", "")
    b = bytearray()
    for i in range(n):
        b += bytes([i % 256]) * (i % 64)
    enc = replaced.encode("utf-16").decode("utf-16")
    return len(s), len(b), digest(enc[-2000:]), hashlib.sha256(b).hexdigest()[:16]


def js(n):
    obj = [{"id": i, "name": "n%d" % i, "tags": ["t%d" % (i % 7)] * (i % 4)}
           for i in range(n)]
    text = json.dumps(obj, sort_keys=True)
    back = json.loads(text)
    return len(text), back == obj


results = {}


def worker(k):
    results[k] = (dicts(20000 + k), lists(20000))


threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
for k in sorted(results):
    print("thread", k, results[k])
print("dicts", dicts(100000))
print("lists", lists(100000))
print("strings", strings(200000))
print("json", js(50000))
