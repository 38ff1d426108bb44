# Fixtures of data.cases (bounded inputs, issue 11 item 3): files whose sizes, values or lines
# are out of bounds. HDF5 files are written with h5py; huge datasets are chunked and never
# written, so they take a few kilobytes on disk.
printf '1 1:1\n-1 2:1\n1 100000000000:1\n-1 1:2\n1 2:2\n' >big.svm
printf '1 1:1\n-1 99999999999999999999:1\n1 1:2\n-1 2:2\n' >past64.svm
printf '1 1:1\n-1 2:1\n1 3:nan\n-1 1:2\n1 2:2\n' >nan.svm
printf '1 1:1\ninf 2:1\n1 3:1\n-1 1:2\n1 2:2\n' >inflabel.svm
printf '1 1:1\n-1 2:1\n1 1000:1\n-1 1:2\n1 2:2\n' >wide.svm
printf '0 1\n1 2\nfoo bar\n2 3\n' >graph_foo.txt
printf '0 1\n1 100000000000\n' >graph_huge.txt
printf '0 1\n1 -2\n' >graph_negative.txt
printf '0 1\n1 99999999999999999999\n' >graph_past64.txt
printf '0 1\n1 2\n2 3\n3 7\n' >graph_range.txt
/usr/bin/python3 - <<'PY'
import gzip, struct
import h5py, numpy as np

def dataset(path, X, y, owner=None, n_features=None, task="regression", n_classes=1):
    with h5py.File(path, "w") as f:
        f.attrs["schema_version"] = np.int64(1)
        f.attrs["task"] = task
        f.attrs["n_features"] = np.int64(X.shape[1] if n_features is None else n_features)
        f.attrs["n_classes"] = np.int64(n_classes)
        g = f.create_group("train")
        g.create_dataset("X", data=X)
        g.create_dataset("y", data=y)
        if owner is not None:
            g.create_dataset("owner", data=owner)

rng = np.random.default_rng(0)
X = rng.normal(size=(20, 3))
y = rng.normal(size=20)
Xn = X.copy(); Xn[7, 2] = np.nan
dataset("nan_x.h5", Xn, y)
yi = y.copy(); yi[5] = np.inf
dataset("inf_y.h5", X, yi)
dataset("float_owner.h5", X, y, owner=np.array([0, 1, 2, 3] * 4 + [0, 1.5, 2, 3]))
# Shapes far beyond any memory, declared but never written (chunked, empty).
for name, rows, cols in (("wide.h5", 20, 100000000000), ("tall.h5", 1000000000000, 3)):
    with h5py.File(name, "w") as f:
        f.attrs["schema_version"] = np.int64(1)
        f.attrs["task"] = "regression"
        f.attrs["n_features"] = np.int64(cols)
        f.attrs["n_classes"] = np.int64(1)
        g = f.create_group("train")
        g.create_dataset("X", shape=(rows, cols), dtype="f8", chunks=(1, min(cols, 1024)))
        g.create_dataset("y", shape=(rows,), dtype="f8", chunks=(min(rows, 1024),))
# CSR features with an infinity in row 3 (column 1).
with h5py.File("csr_inf.h5", "w") as f:
    f.attrs["schema_version"] = np.int64(1)
    f.attrs["task"] = "regression"
    f.attrs["n_features"] = np.int64(3)
    f.attrs["n_classes"] = np.int64(1)
    x = f.create_group("train/X")
    x.attrs["shape"] = np.array([20, 3], dtype=np.int64)
    data = np.ones(20); data[3] = np.inf
    x.create_dataset("data", data=data)
    x.create_dataset("indices", data=np.array([i % 3 for i in range(20)], dtype=np.int64))
    x.create_dataset("indptr", data=np.arange(21, dtype=np.int64))
    f.create_dataset("train/y", data=y)
# A result-like file whose /model/x holds a NaN, for --init.
with h5py.File("init_nan.h5", "w") as f:
    f.create_dataset("model/x", data=np.array([0.0, np.nan] + [0.0] * 58))

def idx(path, dims):
    with gzip.open(path, "wb") as f:
        f.write(bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims))
import os
os.makedirs("idx_overflow"); os.makedirs("idx_huge")
idx("idx_overflow/train-images-idx3-ubyte.gz", [60000, 4294967295, 4294967295])
idx("idx_huge/train-images-idx3-ubyte.gz", [60000, 65536, 65536])
PY
