#!/usr/bin/env python3
"""Plot and table of bench/federated_compare.sh runs.

usage: plot_federated_compare.py RUN_DIR FIGURE TITLE TARGET
Reads RUN_DIR/<method>.jsonl (distopt's JSON metric lines), writes FIGURE (test accuracy against
rounds, against simulated time and against logical bytes, one panel each) and prints the Markdown
table of docs/results-federated.md ("All methods on one setup") on stdout. TARGET is the test
accuracy whose first crossing is reported in rounds, simulated time and bytes.
"""
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from plot_federated import load  # noqa: E402

METHODS = ["fedavg", "scaffold", "feddyn", "fedspeed", "fedspeed-active", "fedbuff", "fedfix",
           "dfedavg", "dfedsam", "dfedsam-mgs"]


def traffic(row):
    """Logical bytes moved so far: server methods count up + down, gossip its peer messages."""
    if row.get("bytes_logical", 0) > 0:
        return row["bytes_logical"]
    return row.get("bytes_peer", 0)


def first(rows, target, key):
    for r in rows:
        if r.get("test_accuracy", 0) >= target:
            return key(r)
    return None


def fmt(v, spec):
    return "-" if v is None else format(v, spec)


def main():
    run_dir, figure, title, target = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2), sharey=True)
    print(f"| method | rounds | local gradient evals | final test acc. | best | rounds to "
          f"{target:.2f} | simulated time to {target:.2f} | MB to {target:.2f} | simulated time "
          f"| logical MB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for m in METHODS:
        path = os.path.join(run_dir, f"{m}.jsonl")
        if not os.path.exists(path):
            continue
        rows = [r for r in load(path) if "test_accuracy" in r]
        if not rows:
            continue
        last = rows[-1]
        acc = [r["test_accuracy"] for r in rows]
        style = "--" if m.startswith("d") else (":" if m in ("fedbuff", "fedfix") else "-")
        for ax, key in zip(axes, [lambda r: r["round"], lambda r: r["virtual_time"],
                                  lambda r: traffic(r) / 1e6]):
            ax.plot([key(r) for r in rows], acc, style, label=m)
        print(f"| {m} | {int(last['round'])} | {int(last['grad_evals'])} | {acc[-1]:.4f} | "
              f"{max(acc):.4f} | {fmt(first(rows, target, lambda r: int(r['round'])), 'd')} | "
              f"{fmt(first(rows, target, lambda r: r['virtual_time']), '.0f')} | "
              f"{fmt(first(rows, target, lambda r: traffic(r) / 1e6), '.0f')} | "
              f"{last['virtual_time']:.0f} | {traffic(last) / 1e6:.0f} |")
    for ax, xl in zip(axes, ["round (server update; gossip round)", "simulated time",
                             "logical MB"]):
        ax.set_xlabel(xl)
        ax.axhline(target, color="gray", lw=0.8, ls="--")
        ax.grid(alpha=0.3)
    axes[1].set_xscale("log")
    axes[2].set_xscale("log")
    axes[0].set_ylabel("test accuracy")
    axes[0].legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(figure, dpi=110)


if __name__ == "__main__":
    main()
