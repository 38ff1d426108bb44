#pragma once
// A dataset held in memory: dense or CSR sparse rows (row-major, so a block of rows is contiguous)
// and one label per row. Dense features are held as float64 or float32 (--precision, see
// Precision); CSR features always as float64. Files may store either; labels are always float64.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "distopt/core/types.hpp"

namespace distopt {

/// What the labels mean.
enum class Task {
  kRegression,  ///< y real
  kBinary,      ///< y in {-1, +1}
  kMulticlass,  ///< y in {0, ..., n_classes-1}
};
/// "regression", "binary" or "multiclass".
const char* to_string(Task t);
/// The Task named "regression", "binary" or "multiclass"; InputError for any other text.
Task task_from_string(const std::string& s);  // throws InputError

/// The two parts of a dataset.
enum class Split { kTrain, kTest };
/// "train" or "test".
inline const char* to_string(Split s) {
  return s == Split::kTrain ? "train" : "test";
}

class DataBlock;

/// Precision of dense features held in memory (and so of the compute of models that follow their
/// data, the MLP): --precision float64 | float32. Parameters, optimiser state, gradients handed to
/// methods and every reduction stay float64 at either (model/precision.hpp has the auto rule).
enum class Precision { kFloat64, kFloat32 };
/// "float64" or "float32".
inline const char* to_string(Precision p) {
  return p == Precision::kFloat32 ? "float32" : "float64";
}

/// A CSR matrix from its three arrays (indptr of rows+1 offsets, 0-based column indices sorted
/// within each row). The caller guarantees consistency (readers validate before calling).
SparseRowMatrix csr_from_arrays(Index rows, Index cols, std::span<const std::int64_t> indptr,
                                std::span<const std::int64_t> indices,
                                std::span<const double> values);

/// Rows of features with one label each, dense or CSR (see the file comment). Owns its storage.
class Dataset {
 public:
  /// An empty dense regression dataset (0 x 0).
  Dataset() = default;
  /// A dense dataset; std::invalid_argument if y does not have one label per row of X. Labels
  /// are not checked against `task` here (the readers do that).
  Dataset(RowMatrix X, Vector y, Task task, Index n_classes);
  /// A dense float32 dataset (precision() == kFloat32); std::invalid_argument as above.
  Dataset(RowMatrixF X, Vector y, Task task, Index n_classes);
  /// A CSR dataset (X is compressed if it is not); std::invalid_argument if y does not have one
  /// label per row of X.
  Dataset(SparseRowMatrix X, Vector y, Task task, Index n_classes);
  /// An empty dataset (0 rows) with the given shape and meaning.
  static Dataset empty(Index cols, bool sparse, Task task, Index n_classes);

  /// Number of rows (samples).
  Index rows() const { return sparse_ ? Xs_.rows() : f32_ ? Xf_.rows() : Xd_.rows(); }
  /// Number of features d.
  Index cols() const { return sparse_ ? Xs_.cols() : f32_ ? Xf_.cols() : Xd_.cols(); }
  /// Precision of the features: kFloat32 only for dense rows built from a RowMatrixF.
  Precision precision() const { return f32_ ? Precision::kFloat32 : Precision::kFloat64; }
  /// Whether the features are stored as CSR (csr()) rather than dense (dense()).
  bool sparse() const { return sparse_; }
  /// What the labels mean.
  Task task() const { return task_; }
  /// Number of classes: 1 for regression, 2 for binary, C for multiclass.
  Index n_classes() const { return n_classes_; }  // 1 for regression, 2 for binary
  /// The dense float64 features (empty when sparse() or at float32).
  const RowMatrix& dense() const { return Xd_; }
  /// The dense float32 features (empty unless precision() is kFloat32).
  const RowMatrixF& dense_f32() const { return Xf_; }
  /// The CSR features (empty when !sparse()).
  const SparseRowMatrix& csr() const { return Xs_; }
  /// The dense features, writable.
  RowMatrix& dense() { return Xd_; }
  /// One label per row.
  const Vector& labels() const { return y_; }
  /// The labels, writable.
  Vector& labels() { return y_; }
  /// Bytes the feature storage occupies (values, plus indices for CSR).
  std::size_t feature_bytes() const;

  /// This dataset with its dense features in precision `p` (float32: each value rounded to
  /// nearest; float64 from float32: exact). CSR data are returned unchanged (always float64).
  Dataset to_precision(Precision p) &&;

  /// A new dataset made of the given rows, in the given order.
  Dataset select(std::span<const Index> rows) const;
  /// Copies the given rows into `out`, reusing its storage: no allocation when `out` already has
  /// the same shape (dense) or enough capacity (CSR), i.e. from the second minibatch of a given
  /// size on. `out` takes this dataset's task, class count and precision.
  void gather(std::span<const Index> rows, Dataset& out) const;
  /// Rows [begin, begin+count) as a view.
  DataBlock block(Index begin, Index count) const;
  /// Every row as a view.
  DataBlock all() const;

 private:
  RowMatrix Xd_;
  RowMatrixF Xf_;  // dense rows at float32 (then Xd_ is empty)
  SparseRowMatrix Xs_;
  Vector y_;
  Task task_ = Task::kRegression;
  Index n_classes_ = 1;
  bool sparse_ = false;
  bool f32_ = false;
};

/// A contiguous block of rows of a Dataset: what objectives evaluate on. Cheap to copy.
class DataBlock {
 public:
  /// A block over no dataset; only rows() (0) may be called.
  DataBlock() = default;
  /// Rows [begin, begin+count) of `*ds`, which must outlive the block (Dataset::block).
  DataBlock(const Dataset* ds, Index begin, Index count) : ds_(ds), begin_(begin), count_(count) {}
  /// Number of rows in the block.
  Index rows() const { return count_; }
  /// Number of features of the dataset.
  Index cols() const { return ds_->cols(); }
  /// Whether the dataset is CSR.
  bool sparse() const { return ds_->sparse(); }
  /// The dataset's task.
  Task task() const { return ds_->task(); }
  /// The dataset's class count.
  Index n_classes() const { return ds_->n_classes(); }
  /// Precision of the dataset's features.
  Precision precision() const { return ds_->precision(); }
  /// Dense float64 rows (only when !sparse() and precision() is kFloat64).
  auto dense() const { return ds_->dense().middleRows(begin_, count_); }
  /// Dense float32 rows (only when precision() is kFloat32).
  auto dense_f32() const { return ds_->dense_f32().middleRows(begin_, count_); }
  /// Sparse rows (only when sparse()).
  auto csr() const { return ds_->csr().middleRows(begin_, count_); }
  /// The block's labels (a segment of the dataset's).
  auto labels() const { return ds_->labels().segment(begin_, count_); }
  /// The whole dataset the block views.
  const Dataset& dataset() const { return *ds_; }
  /// The block's first row, as a row of dataset().
  Index begin() const { return begin_; }

 private:
  const Dataset* ds_ = nullptr;
  Index begin_ = 0;
  Index count_ = 0;
};

inline DataBlock Dataset::block(Index begin, Index count) const {
  return DataBlock(this, begin, count);
}
inline DataBlock Dataset::all() const {
  return DataBlock(this, 0, rows());
}

}  // namespace distopt
