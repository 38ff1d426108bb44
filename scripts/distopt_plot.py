#!/usr/bin/python3
"""Plot one metric of distopt result files: `distopt plot` runs this script.

    distopt plot RESULT.h5... --y METRIC [--x round|grad_evals|bytes_logical|wall_time]
                 [--out FIG.png|FIG.pdf] [--logy|--no-logy] [--title TEXT]

One line per file, labelled by the options that differ between the files (their /config
attributes; the file-handling options output, checkpoint, resume, overwrite and log-format are
left out), or by the file name when no option differs. --x defaults to round, --out to
METRIC-vs-X.png; the y axis is logarithmic by default when every value is positive and the values
span more than two decades. Bad input (a missing file, a file that is not a result file, a metric
a file lacks) is one line "distopt: error: ..." and exit code 2. Needs matplotlib and h5py
(Debian: python3-matplotlib python3-h5py).
"""
import argparse
import math
import os
import sys

X_AXES = ["round", "grad_evals", "bytes_logical", "wall_time"]
FILE_KEYS = {"output", "checkpoint", "resume", "overwrite", "log-format"}
X_LABELS = {
    "round": "round",
    "grad_evals": "gradient evaluations",
    "bytes_logical": "bytes (logical)",
    "wall_time": "wall time (s)",
}


def fail(message):
    """Reports bad input as one line and exits with code 2."""
    print(f"distopt: error: {message}", file=sys.stderr)
    sys.exit(2)


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (the distopt convention) instead of usage + message."""

    def error(self, message):
        fail(message)


def text(value):
    """An HDF5 attribute as text (strings decoded, numbers as Python prints them)."""
    if isinstance(value, bytes):
        return value.decode()
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def read_run(path, x_name, y_name):
    """(config, x values, y values) of one result file."""
    import h5py

    if not os.path.exists(path):
        fail(f"{path}: no such file")
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        fail(f"{path}: not an HDF5 file ({e})")
    with f:
        if "config" not in f or "metrics" not in f:
            fail(f"{path}: not a distopt result file (no /config and /metrics)")
        config = {k: text(v) for k, v in f["config"].attrs.items()}
        metrics = f["metrics"]
        for key, name in (("--y", y_name), ("--x", x_name)):
            if name not in metrics:
                known = ", ".join(sorted(metrics.keys()))
                fail(f"{key}: {path} has no metric '{name}' (it has: {known})")
        return config, metrics[x_name][()], metrics[y_name][()]


def labels_for(configs, paths):
    """A label per run: the options that differ, key=value, or the file name."""
    keys = sorted({k for c in configs for k in c} - FILE_KEYS)
    differ = [k for k in keys if len({c.get(k) for c in configs}) > 1]
    labels = []
    for c, p in zip(configs, paths):
        parts = [f"{k}={c.get(k, '-')}" for k in differ]
        labels.append(", ".join(parts) if parts else os.path.basename(p))
    if len(set(labels)) < len(labels):  # same options: tell them apart by file
        labels = [f"{lab} ({os.path.basename(p)})" for lab, p in zip(labels, paths)]
    return labels


def main(argv):
    parser = Parser(prog="distopt plot", description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", metavar="RESULT.h5")
    parser.add_argument("--y", required=True, metavar="METRIC", help="metric on the y axis")
    parser.add_argument("--x", default="round", choices=X_AXES, help="x axis (default round)")
    parser.add_argument("--out", metavar="FIG", help="figure file, .png or .pdf")
    parser.add_argument("--logy", action=argparse.BooleanOptionalAction, default=None,
                        help="logarithmic y axis (default: when the values span > 2 decades)")
    parser.add_argument("--title", help="figure title")
    args = parser.parse_args(argv)
    out = args.out or f"{args.y}-vs-{args.x}.png"
    ext = os.path.splitext(out)[1].lower()
    if ext not in (".png", ".pdf"):
        fail(f"--out: {out}: the figure must be a .png or .pdf file")
    # A result file named like a figure, or a symlink to one, would be replaced by the plot.
    for p in args.files:
        if os.path.exists(out) and os.path.exists(p) and os.path.samefile(out, p):
            fail(f"--out: {out} is also the input {p}: refusing to write over an input")

    runs = [read_run(p, args.x, args.y) for p in args.files]
    try:
        import matplotlib
    except ImportError:
        fail("plot: matplotlib is missing (Debian: apt-get install python3-matplotlib)")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = labels_for([r[0] for r in runs], args.files)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    values = []
    for (config, x, y), label in zip(runs, labels):
        ax.plot(x, y, label=label, linewidth=1.5)
        values.extend(v for v in y.tolist() if math.isfinite(v))
    logy = args.logy
    if logy is None:
        positive = [v for v in values if v > 0]
        logy = bool(values) and len(positive) == len(values) and max(positive) > 100 * min(positive)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(X_LABELS[args.x])
    ax.set_ylabel(args.y)
    if args.title:
        ax.set_title(args.title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    fig.tight_layout()
    directory = os.path.dirname(out)
    if directory:
        os.makedirs(directory, exist_ok=True)
    try:
        fig.savefig(out, metadata={"Software": None} if ext == ".png" else None)
    except OSError as e:
        fail(f"--out: cannot write {out}: {e}")
    print(f"wrote {out} ({len(runs)} runs: {args.y} against {args.x})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
