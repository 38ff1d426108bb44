"""Test accuracy at y*(x) and the mean weight on corrupted and clean rows against the iteration,
from a hyperclean result file (bench/bench_hyperclean.sh)."""
import sys

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

src, dst = sys.argv[1], sys.argv[2]
with h5py.File(src, "r") as f:
    m = f["metrics"]
    rounds = m["round"][:]
    acc, it_acc = m["test_accuracy"][:], m["iterate_test_accuracy"][:]
    bad, good = m["weight_corrupted"][:], m["weight_clean"][:]
fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.4))
a.plot(rounds, acc, "o-", label="at the exact lower solutions y*(x)")
a.plot(rounds, it_acc, "s--", label="at the method's iterates y_i")
a.set_xlabel("iteration")
a.set_ylabel("test accuracy (mean over blocks)")
a.legend(fontsize=8)
b.plot(rounds, bad, "o-", label="rows whose label was changed")
b.plot(rounds, good, "s-", label="other rows")
b.set_xlabel("iteration")
b.set_ylabel("mean weight sigma(x_j)")
b.legend(fontsize=8)
fig.suptitle("bsvrb2 on hyperclean (Fashion-MNIST, 50% corruption, m = 10, I = 5, B = 32)",
             fontsize=9)
fig.tight_layout()
fig.savefig(dst, dpi=110)
