#!/usr/bin/python3
"""Writes the seed corpus of fuzz_dataset (fuzz/corpus/dataset/): small dataset files in the
format of include/distopt/data/dataset_file.hpp, valid and near-valid (one thing wrong each), as
a user would write them with h5py. Run from the repository root; the outputs are committed."""
import os

import h5py
import numpy as np

OUT = "fuzz/corpus/dataset"


def base(f, task="binary", n_features=3, n_classes=2):
    f.attrs["schema_version"] = np.int64(1)
    f.attrs["task"] = task
    f.attrs["n_features"] = np.int64(n_features)
    f.attrs["n_classes"] = np.int64(n_classes)


def dense(f, group, X, y):
    g = f.create_group(group)
    g["X"] = np.asarray(X)
    g["y"] = np.asarray(y, dtype=np.float64)
    return g


def csr(f, group, data, indices, indptr, shape, y):
    g = f.create_group(group)
    x = g.create_group("X")
    x.attrs["shape"] = np.asarray(shape, dtype=np.int64)
    x["data"] = np.asarray(data, dtype=np.float32)
    x["indices"] = np.asarray(indices, dtype=np.int64)
    x["indptr"] = np.asarray(indptr, dtype=np.int64)
    g["y"] = np.asarray(y, dtype=np.float64)


def write(name, fill):
    with h5py.File(os.path.join(OUT, name), "w", libver="earliest") as f:
        fill(f)


X = np.arange(12, dtype=np.float64).reshape(4, 3)
seeds = {
    "dense_binary.h5": lambda f: (base(f), dense(f, "train", X, [1, -1, 1, -1])),
    "dense_f32_test_owner.h5": lambda f: (
        base(f, "multiclass", 3, 3), dense(f, "train", X.astype(np.float32), [0, 1, 2, 1]),
        dense(f, "test", X[:2], [2, 0]), f["train"].create_dataset("owner", data=np.array([0, 1, 0, 1]))),
    "regression.h5": lambda f: (base(f, "regression", 3, 1), dense(f, "train", X, [0.5, -2, 3, 1e3]),
                                f.attrs.create("source", "synthetic")),
    "csr.h5": lambda f: (base(f), csr(f, "train", [1, 2, 3], [0, 2, 1], [0, 2, 2, 3], [3, 3], [1, -1, 1])),
    # Near-valid: one thing wrong each.
    "bad_label.h5": lambda f: (base(f), dense(f, "train", X, [1, -1, 2, -1])),
    "bad_columns.h5": lambda f: (base(f, n_features=4), dense(f, "train", X, [1, -1, 1, -1])),
    "csr_bad_indptr.h5": lambda f: (base(f), csr(f, "train", [1, 2, 3], [0, 2, 1], [0, 3, 2, 3], [3, 3], [1, -1, 1])),
    "csr_bad_column.h5": lambda f: (base(f), csr(f, "train", [1, 2, 3], [0, 7, 1], [0, 2, 2, 3], [3, 3], [1, -1, 1])),
    "owner_negative.h5": lambda f: (base(f), dense(f, "train", X, [1, -1, 1, -1]),
                                    f["train"].create_dataset("owner", data=np.array([0, -1, 0, 1]))),
    "int_features.h5": lambda f: (base(f), dense(f, "train", X.astype(np.int32), [1, -1, 1, -1])),
    "no_schema.h5": lambda f: dense(f, "train", X, [1, -1, 1, -1]),
}
os.makedirs(OUT, exist_ok=True)
for name, fill in seeds.items():
    write(name, fill)
