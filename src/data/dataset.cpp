#include "distopt/data/dataset.hpp"

#include <algorithm>
#include <stdexcept>

#include "distopt/core/error.hpp"

namespace distopt {

const char* to_string(Task t) {
  switch (t) {
    case Task::kRegression:
      return "regression";
    case Task::kBinary:
      return "binary";
    case Task::kMulticlass:
      return "multiclass";
  }
  return "?";
}

Task task_from_string(const std::string& s) {
  if (s == "regression") return Task::kRegression;
  if (s == "binary") return Task::kBinary;
  if (s == "multiclass") return Task::kMulticlass;
  throw InputError("unknown task '" + s + "' (expected regression, binary or multiclass)");
}

SparseRowMatrix csr_from_arrays(Index rows, Index cols, std::span<const std::int64_t> indptr,
                                std::span<const std::int64_t> indices,
                                std::span<const double> values) {
  SparseRowMatrix m(rows, cols);
  const Index nnz = static_cast<Index>(values.size());
  m.resizeNonZeros(nnz);
  std::copy(indptr.begin(), indptr.end(), m.outerIndexPtr());
  std::copy(indices.begin(), indices.end(), m.innerIndexPtr());
  std::copy(values.begin(), values.end(), m.valuePtr());
  return m;
}

namespace {

void check_labels(Index rows, const Vector& y) {
  if (y.size() != rows) {
    throw std::invalid_argument("Dataset: " + std::to_string(rows) + " rows but " +
                                std::to_string(y.size()) + " labels");
  }
}

}  // namespace

Dataset::Dataset(RowMatrix X, Vector y, Task task, Index n_classes)
    : Xd_(std::move(X)), y_(std::move(y)), task_(task), n_classes_(n_classes), sparse_(false) {
  check_labels(Xd_.rows(), y_);
}

Dataset::Dataset(RowMatrixF X, Vector y, Task task, Index n_classes)
    : Xf_(std::move(X)),
      y_(std::move(y)),
      task_(task),
      n_classes_(n_classes),
      sparse_(false),
      f32_(true) {
  check_labels(Xf_.rows(), y_);
}

Dataset::Dataset(SparseRowMatrix X, Vector y, Task task, Index n_classes)
    : Xs_(std::move(X)), y_(std::move(y)), task_(task), n_classes_(n_classes), sparse_(true) {
  Xs_.makeCompressed();
  check_labels(Xs_.rows(), y_);
}

Dataset Dataset::empty(Index cols, bool sparse, Task task, Index n_classes) {
  if (sparse) return Dataset(SparseRowMatrix(0, cols), Vector(0), task, n_classes);
  return Dataset(RowMatrix(0, cols), Vector(0), task, n_classes);
}

std::size_t Dataset::feature_bytes() const {
  if (f32_) return static_cast<std::size_t>(Xf_.size()) * sizeof(float);
  if (!sparse_) return static_cast<std::size_t>(Xd_.size()) * sizeof(double);
  return static_cast<std::size_t>(Xs_.nonZeros()) * (sizeof(double) + sizeof(std::int64_t)) +
         static_cast<std::size_t>(Xs_.rows() + 1) * sizeof(std::int64_t);
}

Dataset Dataset::to_precision(Precision p) && {
  if (sparse_ || p == precision()) return std::move(*this);
  Dataset out;
  out.task_ = task_;
  out.n_classes_ = n_classes_;
  out.y_ = std::move(y_);
  out.f32_ = p == Precision::kFloat32;
  // Both copies exist until the cast ends; readers that care about the peak (Fashion-MNIST)
  // write the final precision directly instead (DataSource::read_rows).
  if (out.f32_) {
    out.Xf_ = Xd_.cast<float>();
  } else {
    out.Xd_ = Xf_.cast<double>();
  }
  Xd_ = RowMatrix();
  Xf_ = RowMatrixF();
  return out;
}

Dataset Dataset::select(std::span<const Index> rows) const {
  Dataset out;
  gather(rows, out);
  return out;
}

void Dataset::gather(std::span<const Index> rows, Dataset& out) const {
  const Index k = static_cast<Index>(rows.size());
  for (Index r : rows) {
    if (r < 0 || r >= this->rows()) throw std::out_of_range("Dataset::gather: row out of range");
  }
  out.task_ = task_;
  out.n_classes_ = n_classes_;
  out.sparse_ = sparse_;
  out.f32_ = f32_;
  // Eigen's resize is a no-op when the shape is unchanged, which is what keeps repeated
  // minibatches of one size free of allocation.
  out.y_.resize(k);
  for (Index i = 0; i < k; ++i) out.y_[i] = y_[rows[static_cast<std::size_t>(i)]];
  if (f32_) {
    out.Xd_.resize(0, 0);
    out.Xf_.resize(k, Xf_.cols());
    for (Index i = 0; i < k; ++i) out.Xf_.row(i) = Xf_.row(rows[static_cast<std::size_t>(i)]);
    return;
  }
  if (!sparse_) {
    out.Xf_.resize(0, 0);
    out.Xd_.resize(k, Xd_.cols());
    for (Index i = 0; i < k; ++i) out.Xd_.row(i) = Xd_.row(rows[static_cast<std::size_t>(i)]);
    return;
  }
  Index nnz = 0;
  const auto* outer = Xs_.outerIndexPtr();
  for (Index r : rows) nnz += outer[r + 1] - outer[r];
  auto& S = out.Xs_;
  S.resize(k, Xs_.cols());  // keeps the value/index capacity
  S.resizeNonZeros(nnz);
  auto* o = S.outerIndexPtr();
  auto* idx = S.innerIndexPtr();
  auto* val = S.valuePtr();
  Index pos = 0;
  o[0] = 0;
  for (Index i = 0; i < k; ++i) {
    const Index r = rows[static_cast<std::size_t>(i)];
    const Index b = outer[r], e = outer[r + 1];
    std::copy(Xs_.innerIndexPtr() + b, Xs_.innerIndexPtr() + e, idx + pos);
    std::copy(Xs_.valuePtr() + b, Xs_.valuePtr() + e, val + pos);
    pos += e - b;
    o[i + 1] = pos;
  }
}

}  // namespace distopt
