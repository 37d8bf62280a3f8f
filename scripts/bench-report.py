#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""bench-report.py OUTDIR: summarise OUTDIR/runs.csv written by scripts/bench.sh.

Writes OUTDIR/results.md, OUTDIR/results.csv and OUTDIR/chart.png (through
gnuplot, with OUTDIR/chart.dat and OUTDIR/chart.gp kept for re-plotting),
and prints the throughput table.  When the phases row ran, chart.png has a
second panel: RSS over time of its last run under each allocator
(OUTDIR/phases-ALLOC.dat).  Exit 0 unless the input cannot be read.
"""
import csv
import os
import shutil
import statistics
import subprocess
import sys

ORDER = ["glibc", "hakmem", "hakmem-base", "mimalloc", "jemalloc", "tcmalloc"]
PEERS = ["glibc", "mimalloc", "jemalloc", "tcmalloc"]


def fnum(s):
    try:
        return float(s)
    except (TypeError, ValueError):
        return None


def fmt(x, digits=3):
    if x is None:
        return "-"
    if x >= 100:
        return "%.0f" % x
    return "%.*g" % (digits, x)


def parse_result(line):
    out = {}
    for tok in line.split()[1:]:
        k, sep, v = tok.partition("=")
        if sep:
            out[k] = v
    return out


def main():
    outdir = sys.argv[1]
    meta = {"alloc": []}
    with open(os.path.join(outdir, "meta.txt")) as f:
        for ln in f:
            k, _, v = ln.rstrip("\n").partition("=")
            if k == "alloc":
                meta["alloc"].append(v.split("|", 2))
            else:
                meta[k] = v
    runs = list(csv.DictReader(open(os.path.join(outdir, "runs.csv"))))

    benches = []
    for r in runs:
        if r["bench"] not in benches:
            benches.append(r["bench"])
    allocs = [a for a in ORDER if any(r["allocator"] == a for r in runs)]
    missing = [(n, why) for n, st, why in meta["alloc"] if st != "ok"]

    # per (bench, allocator) statistics
    st = {}
    for b in benches:
        for a in allocs:
            rs = [r for r in runs if r["bench"] == b and r["allocator"] == a]
            if not rs:
                continue
            ok = [r for r in rs if r["status"] == "ok"]
            m = [fnum(r["mops"]) for r in ok if fnum(r["mops"]) is not None]
            rss = [fnum(r["maxrss_kib"]) for r in ok if fnum(r["maxrss_kib"]) is not None]
            extra = {}
            for r in ok:
                for k, v in parse_result(r["result"]).items():
                    if (k.startswith("rss_") or k.startswith("phase") or k == "idle_permille" or
                            k == "remote_pct") and fnum(v) is not None:
                        extra.setdefault(k, []).append(fnum(v))
            st[b, a] = {
                "runs": len(rs), "ok": len(ok), "fail": len(rs) - len(ok),
                "med": statistics.median(m) if m else None,
                "min": min(m) if m else None, "max": max(m) if m else None,
                "rss": statistics.median(rss) if rss else None,
                "rss_min": min(rss) if rss else None, "rss_max": max(rss) if rss else None,
                "extra": {k: statistics.median(v) for k, v in extra.items()},
            }

    def ratio(b, a, base):
        x, y = st.get((b, a)), st.get((b, base))
        if x and y and x["med"] and y["med"]:
            return x["med"] / y["med"]
        return None

    def best_peer(b):
        best = None
        for p in PEERS:
            s = st.get((b, p))
            if s and s["med"] and (best is None or s["med"] > st[b, best]["med"]):
                best = p
        return best

    # ---- results.csv ----------------------------------------------------
    with open(os.path.join(outdir, "results.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["bench", "allocator", "runs", "failed_runs", "mops_median", "mops_min",
                    "mops_max", "maxrss_kib_median", "maxrss_kib_min", "maxrss_kib_max",
                    "vs_glibc", "best_peer", "vs_best_peer"])
        for b in benches:
            bp = best_peer(b)
            for a in allocs:
                s = st.get((b, a))
                if not s:
                    continue
                g = lambda x: "" if x is None else ("%.6g" % x)
                vbp = ratio(b, a, bp) if bp and a == "hakmem" else None
                w.writerow([b, a, s["runs"], s["fail"], g(s["med"]), g(s["min"]), g(s["max"]),
                            g(s["rss"]), g(s["rss_min"]), g(s["rss_max"]),
                            g(ratio(b, a, "glibc")), bp or "", g(vbp)])

    # ---- results.md -----------------------------------------------------
    L = []
    L.append("# hakmem benchmark results")
    L.append("")
    L.append("- %s, %s mode, RUNS=%s (multi-thread benchmarks: at least 10 in full mode)"
             % (meta.get("date", "?"), meta.get("mode", "?"), meta.get("runs", "?")))
    L.append("- %s" % meta.get("host", "?"))
    for n, stt, why in meta["alloc"]:
        L.append("- %s: %s" % (n, why if stt == "ok" else "**missing**, skipped (%s)" % why))
    L.append("")
    L.append("## Throughput, Mops/s: median (min..max)")
    L.append("")
    L.append("An op is one malloc+free pair (realloc: one realloc call; python, sqlite: one "
             "record). Higher is better. *hakmem/best* is hakmem's median over the best "
             "peer's median.")
    L.append("")
    hdr = ["benchmark", "runs"] + allocs + ["best peer", "hakmem/best"]
    L.append("| " + " | ".join(hdr) + " |")
    L.append("|" + "---|" * 2 + "---:|" * len(allocs) + "---|---:|")
    for b in benches:
        bp = best_peer(b)
        n = max(st[b, a]["runs"] for a in allocs if (b, a) in st)
        row = [b, str(n)]
        for a in allocs:
            s = st.get((b, a))
            if not s:
                row.append("-")
            elif s["med"] is None:
                row.append("**FAIL**")
            else:
                c = "%s (%s..%s)" % (fmt(s["med"]), fmt(s["min"]), fmt(s["max"]))
                if s["fail"]:
                    c += " **%d FAIL**" % s["fail"]
                if a == bp:
                    c = "**" + fmt(s["med"]) + "**" + c[len(fmt(s["med"])):]
                row.append(c)
        h = ratio(b, "hakmem", bp) if bp else None
        row += [bp or "-", "%.2f" % h if h else "-"]
        L.append("| " + " | ".join(row) + " |")
    L.append("")
    L.append("## Peak RSS, MiB (median of /usr/bin/time %M)")
    L.append("")
    L.append("| benchmark | " + " | ".join(allocs) + " |")
    L.append("|---|" + "---:|" * len(allocs))
    for b in benches:
        row = [b]
        for a in allocs:
            s = st.get((b, a))
            row.append(fmt(s["rss"] / 1024, 3) if s and s["rss"] else "-")
        L.append("| " + " | ".join(row) + " |")
    # program-reported metrics
    keys = []
    for (b, a), s in st.items():
        for k in s["extra"]:
            if (b, k) not in keys:
                keys.append((b, k))
    if keys:
        L.append("")
        L.append("## Figures the programs report (medians; rss_* in MiB, relative to the "
                 "start where the program says so)")
        L.append("")
        L.append("| benchmark | figure | " + " | ".join(allocs) + " |")
        L.append("|---|---|" + "---:|" * len(allocs))
        for b in benches:
            for bb, k in keys:
                if bb != b:
                    continue
                row = [b, k.replace("_kib", "")]
                for a in allocs:
                    v = st.get((b, a), {"extra": {}})["extra"].get(k)
                    if v is None:
                        row.append("-")
                    elif k.endswith("_kib"):
                        row.append(fmt(v / 1024, 3))
                    else:
                        row.append(fmt(v, 3))
                L.append("| " + " | ".join(row) + " |")
    if missing:
        L.append("")
        L.append("Missing allocators: " + ", ".join("%s (%s)" % m for m in missing) + ".")
    md = "\n".join(L) + "\n"
    open(os.path.join(outdir, "results.md"), "w").write(md)

    # ---- chart ----------------------------------------------------------
    dat = os.path.join(outdir, "chart.dat")
    with open(dat, "w") as f:
        f.write("bench " + " ".join(allocs) + "\n")
        for b in benches:
            vals = []
            for a in allocs:
                r = ratio(b, a, "glibc")
                vals.append("%.4f" % r if r else "?")
            f.write(b + " " + " ".join(vals) + "\n")
    gp = os.path.join(outdir, "chart.gp")
    png = os.path.join(outdir, "chart.png")
    width = max(1000, 90 * len(benches) + 200)
    traces = [(a, os.path.join(outdir, "phases-%s.dat" % a)) for a in allocs]
    traces = [(a, t) for a, t in traces if "phases" in benches and os.path.exists(t)]
    script = """set terminal pngcairo size %d,%d font ",11"
set output "%s"
%s""" % (width, 1240 if traces else 620, png, "set multiplot layout 2,1\n" if traces else "")
    script += """set title "hakmem benchmarks: throughput relative to glibc (median, higher is better; %s mode)"
set ylabel "throughput / glibc (log scale)"
set logscale y 2
set grid ytics
set key outside top center horizontal Left reverse samplen 2 width 2
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set xtics rotate by -35 left nomirror
set datafile missing "?"
set yrange [0.02<*:*]
set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 1.5 lc rgb "black"
plot for [i=2:%d] "%s" using i:xtic(1) title columnheader(i)
""" % (meta.get("mode", "?"), len(allocs) + 1, dat)
    if traces:
        script += """unset logscale y
set yrange [*:*]
unset arrow
set style data lines
set xtics norotate
set title "bench/phases: RSS above the start over time (last run; burst, mid, idle, burst)"
set xlabel "seconds"
set ylabel "MiB"
set key outside top center horizontal
plot """ + ", ".join('"%s" using ($1/1000):($2/1024) with lines lw 2 title "%s"' % (t, a)
                     for a, t in traces) + "\nunset multiplot\n"
    open(gp, "w").write(script)
    if shutil.which("gnuplot"):
        r = subprocess.run(["gnuplot", gp], capture_output=True, text=True)
        if r.returncode != 0:
            sys.stderr.write("bench: gnuplot failed: %s\n" % r.stderr.strip())
    else:
        sys.stderr.write("bench: gnuplot not installed, chart.png not drawn\n")

    sys.stdout.write("\n" + md + "\n")


main()
