#!/usr/bin/env python3
"""Helpers of bench/bench_bilevel.sh (run with /usr/bin/python3, which has h5py).

  row FILE TARGET PREFIX      one CSV line: PREFIX, then reached, iterations to F < TARGET (the
                              first evaluation row below it), step time and wall time at that row,
                              oracle calls and bytes_up at that row (the last row when not
                              reached), F at the stop, min F
  choose TUNE_CSV             per method the grid point with the fewest iterations to the target
                              (ties: lower F at the stop); prints "method<TAB>args"
  split-row FILE PREFIX       PREFIX, time_block_kernels, time_aggregation, time_steps, bytes_up
                              at the last row
  plot RESULTS FIGURES TARGET docs/figures/bilevel-speedup.png, bilevel-split.png and Markdown
                              tables on stdout
"""
import csv
import math
import statistics
import sys
from collections import defaultdict


def row(path, target, prefix):
    import h5py
    try:
        f = h5py.File(path, "r")
        m = f["metrics"]
    except (OSError, KeyError):
        print(f"{prefix},failed,,,,,,,,,,")
        return
    loss = m["loss"][:]
    hit = [i for i, v in enumerate(loss) if v < target]
    i = hit[0] if hit else len(loss) - 1
    g = lambda k: float(m[k][i]) if k in m else float("nan")
    finite = [v for v in loss if math.isfinite(v)]
    print(",".join([prefix, "yes" if hit else "no", str(int(m["round"][i])),
                    f"{g('time_steps'):.4f}", f"{g('wall_time'):.4f}",
                    *(str(int(g(k))) for k in ("grad_evals", "hvp_evals", "jvp_evals",
                                                "hessian_evals", "bytes_up")),
                    f"{loss[i]:.5f}", f"{min(finite) if finite else float('nan'):.5f}"]))


def fl(s):
    try:
        return float(s)
    except ValueError:
        return float("nan")


def read(path):
    with open(path) as fh:
        return list(csv.DictReader(fh))


def choose(path):
    best = {}
    for r in read(path):
        if r["reached"] != "yes":
            continue
        key = (int(r["iters"]), float(r["loss_at_stop"]))
        if r["method"] not in best or key < best[r["method"]][0]:
            best[r["method"]] = (key, r["args"])
    for m, (_, a) in best.items():
        print(f"{m}\t{a}")


def expected_max_share(m, I, P):
    """E[max_r k_r] when I of m blocks (m/P per rank, contiguous) are drawn uniformly without
    replacement: k_r is multivariate hypergeometric. Exact enumeration."""
    from math import comb
    K = m // P
    total = 0

    def rec(r, left, weight, mx):
        nonlocal total
        if r == P - 1:
            if left <= K:
                total += weight * comb(K, left) * max(mx, left)
            return
        for k in range(min(K, left) + 1):
            rec(r + 1, left - k, weight * comb(K, k), max(mx, k))

    rec(0, I, 1, 0)
    return total / comb(m, I)


def split_row(path, prefix):
    import h5py
    m = h5py.File(path, "r")["metrics"]
    print(",".join([prefix] + [f"{float(m[k][-1]):.5f}" for k in
                               ("time_block_kernels", "time_aggregation", "time_steps")] +
                   [str(int(m["bytes_up"][-1]))]))


def plot(results, figures, target):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sp = read(f"{results}/bilevel-speedup.csv")
    methods = list(dict.fromkeys(r["method"] for r in sp))
    fig, axes = plt.subplots(1, len(methods), figsize=(4.2 * len(methods), 3.6), sharey=True)
    axes = [axes] if len(methods) == 1 else axes
    for ax, meth in zip(axes, methods):
        for B, col in zip(("8", "32", "128"), ("C0", "C1", "C2")):
            rs = sorted((r for r in sp if r["method"] == meth and r["B"] == B),
                        key=lambda r: int(r["I"]))
            xs = [int(r["I"]) for r in rs]
            ys = [int(r["iters"]) if r["reached"] == "yes" else int(r["cap"]) for r in rs]
            ax.plot(xs, ys, "-", color=col, label=f"B = {B}")
            for r, x, y in zip(rs, xs, ys):
                ax.plot(x, y, "o" if r["reached"] == "yes" else "^", color=col,
                        mfc=col if r["reached"] == "yes" else "none")
        Is = [1, 5, 10, 25]
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xticks(Is)
        ax.set_xticklabels([str(i) for i in Is])
        ax.set_title(meth)
        ax.set_xlabel("I (blocks per iteration)")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel(f"iterations to F < {target}")
    axes[0].legend(title="open triangle: > cap", fontsize=8, title_fontsize=7)
    fig.tight_layout()
    fig.savefig(f"{figures}/bilevel-speedup.png", dpi=110)

    print(f"### iterations to F < {target}\n")
    print("| method | B | I | iterations | step time (s) | wall time (s) | grad | hvp | jvp | "
          "hessian | bytes_up | F at stop |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in sp:
        it = r["iters"] if r["reached"] == "yes" else f"> {r['cap']}"
        print(f"| {r['method']} | {r['B']} | {r['I']} | {it} | {fl(r['steps_time']):.2f} | "
              f"{fl(r['wall_time']):.2f} | {r['grad_evals']} | {r['hvp_evals']} | "
              f"{r['jvp_evals']} | {r['hessian_evals']} | {r['bytes_up']} | {r['loss_at_stop']} |")

    sl = read(f"{results}/bilevel-split.csv")
    groups = defaultdict(list)
    for r in sl:
        groups[(r["method"], r["pool"], r["np"])].append(r)
    ceil = {}
    for r in read(f"{results}/bilevel-ceiling.csv"):
        ceil[(r["kind"], r["np"], r["d"])] = float(r["median_us"])
    print("\n### cost split, I = 10, B = 32 (ms per iteration; every column is the median over the repetitions of that column)\n")
    print("| method | pool (d) | np | reps | kernels | aggregation | rest | step | kernel share | "
          "aggregation share | raw allgatherv (ms) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    bars = []
    for (meth, pool, np_), rs in groups.items():
        n = int(rs[0]["rounds"])
        k = statistics.median(float(r["time_block_kernels"]) / n * 1e3 for r in rs)
        a = statistics.median(float(r["time_aggregation"]) / n * 1e3 for r in rs)
        s = statistics.median(float(r["time_steps"]) / n * 1e3 for r in rs)
        rest = statistics.median((float(r["time_steps"]) - float(r["time_block_kernels"]) -
                                  float(r["time_aggregation"])) / n * 1e3 for r in rs)
        ksh = statistics.median(float(r["time_block_kernels"]) / float(r["time_steps"]) for r in rs)
        ash = statistics.median(float(r["time_aggregation"]) / float(r["time_steps"]) for r in rs)
        d = "50" if pool == "4" else "197"
        raw = ceil.get(("raw_allgatherv", np_, "0"), float("nan")) / 1e3
        print(f"| {meth} | {pool} ({d}) | {np_} | {len(rs)} | {k:.3f} | {a:.3f} | {rest:.3f} | "
              f"{s:.3f} | {100 * ksh:.0f}% | {100 * ash:.0f}% | {raw:.4f} |")
        bars.append((f"{meth}\nd={d} np{np_}", k, a, max(rest, 0.0)))
    fig, ax = plt.subplots(figsize=(max(6, 0.75 * len(bars)), 4.0))
    xs = range(len(bars))
    tot = [b[1] + b[2] + b[3] for b in bars]
    k = [100 * b[1] / t for b, t in zip(bars, tot)]
    a = [100 * b[2] / t for b, t in zip(bars, tot)]
    rest = [100 * b[3] / t for b, t in zip(bars, tot)]
    ax.bar(xs, k, label="block kernels")
    ax.bar(xs, a, bottom=k, label="aggregation (incl. wait)")
    ax.bar(xs, rest, bottom=[p + q for p, q in zip(k, a)], label="rest")
    ax.axhline(70, color="k", ls="--", lw=0.8)
    for x, t in zip(xs, tot):
        ax.text(x, 101, f"{t:.2f} ms", ha="center", fontsize=6)
    ax.set_xticks(list(xs))
    ax.set_xticklabels([b[0] for b in bars], fontsize=6)
    ax.set_ylabel("% of the iteration (medians of 3 runs)")
    ax.set_ylim(0, 108)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(f"{figures}/bilevel-split.png", dpi=110)

    print("\n### expected imbalance of the block draw (m = 100, I = 10)\n")
    print("| np | E[k_r] | E[max_r k_r] | ratio | kernel share if kernels were all (1/ratio) |")
    print("|---:|---:|---:|---:|---:|")
    for P in (1, 2, 4):
        e = expected_max_share(100, 10, P)
        print(f"| {P} | {10 / P:.2f} | {e:.3f} | {e / (10 / P):.3f} | {100 * (10 / P) / e:.1f}% |")

    print("\n### ceilings (bench_bilevel, median µs)\n")
    print("| kind | np | d | bytes per rank | µs |")
    print("|---|---:|---:|---:|---:|")
    for r in read(f"{results}/bilevel-ceiling.csv"):
        print(f"| {r['kind']} | {r['np']} | {r['d']} | {r['bytes_per_rank']} | {r['median_us']} |")


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "row":
        row(sys.argv[2], float(sys.argv[3]), sys.argv[4])
    elif cmd == "choose":
        choose(sys.argv[2])
    elif cmd == "split-row":
        split_row(sys.argv[2], sys.argv[3])
    elif cmd == "plot":
        plot(sys.argv[2], sys.argv[3], float(sys.argv[4]))
    else:
        sys.exit(f"unknown command {cmd}")
