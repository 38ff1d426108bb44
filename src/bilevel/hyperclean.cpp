#include "distopt/bilevel/hyperclean.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include "distopt/core/check.hpp"
#include "distopt/core/error.hpp"
#include "distopt/core/logistic_math.hpp"
#include "distopt/core/random.hpp"
#include "distopt/data/image_pooling.hpp"
#include "distopt/data/source.hpp"

namespace distopt {

namespace {

// Stream keys (Purpose::kData, seed = the data seed): the permutation of the training split from
// an agent slot no block uses; the corruption of global training row j from the slot
// kCorruptionAgent at step j (one stream per row, so any rank draws any row's corruption alone).
constexpr std::uint64_t kPermutationAgent = 1ull << 62;
constexpr std::uint64_t kCorruptionAgent = (1ull << 62) + 1;

using ConstRowMap = Eigen::Map<const RowMatrix>;
using RowMap = Eigen::Map<RowMatrix>;

// Multiclass labels 0..C−1 (binary sources' ±1 become 0/1).
Vector class_labels(const Vector& y, Task task) {
  if (task != Task::kBinary) return y;
  return (y.array() > 0).cast<double>().matrix();
}

}  // namespace

void HypercleanOptions::validate() const {
  check::at_least("hyperclean-train-rows", train_rows, 1);
  check::at_least("hyperclean-val-rows", val_rows, 1);
  check::at_least("hyperclean-test-rows", test_rows, 0);
  if (!(corruption >= 0 && corruption <= 1)) {
    throw ConfigError("hyperclean-corruption", "must be a probability in [0, 1]");
  }
  image_pool_features("hyperclean-pool", pool, kPooledImageSide * kPooledImageSide, "");
  check::positive("hyperclean-lower-reg", lower_reg);
}

HypercleanProblem::HypercleanProblem(const HypercleanOptions& options, const std::string& data,
                                     Index blocks, std::uint64_t seed, const Placement& placement,
                                     std::uint64_t max_memory)
    : o_(options), m_(blocks), placement_(placement) {
  o_.validate();
  if (blocks < 1) throw ConfigError("agents", "hyperclean needs at least one block");
  if (placement.agents() != blocks) {
    throw Error("HypercleanProblem: the placement has " + std::to_string(placement.agents()) +
                " agents, not the " + std::to_string(blocks) + " blocks");
  }
  if (o_.train_rows < m_) {
    throw ConfigError("hyperclean-train-rows", "needs at least one training row per block (" +
                                                   std::to_string(o_.train_rows) + " rows for " +
                                                   std::to_string(m_) + " blocks)");
  }
  SourceOptions so;
  so.seed = seed;
  so.max_memory = max_memory;
  const auto src = open_source(data, so);
  description_ = src->describe();
  if (src->task() == Task::kRegression) {
    throw ConfigError("bilevel-data",
                      "hyperclean needs class labels; " + description_ + " is a regression task");
  }
  c_ = src->task() == Task::kBinary ? 2 : src->n_classes();
  const Index n_split = src->rows(Split::kTrain);
  if (o_.train_rows + o_.val_rows > n_split) {
    throw ConfigError("hyperclean-train-rows",
                      std::to_string(o_.train_rows) + " training + " + std::to_string(o_.val_rows) +
                          " validation rows (--hyperclean-val-rows) exceed the " +
                          std::to_string(n_split) + " rows of the training split of " +
                          description_);
  }
  const Index n_test_split = src->rows(Split::kTest);
  if (o_.test_rows > n_test_split) {
    throw ConfigError("hyperclean-test-rows", std::to_string(o_.test_rows) + " exceed the " +
                                                  std::to_string(n_test_split) +
                                                  " rows of the test split of " + description_);
  }
  d_ = image_pool_features("hyperclean-pool", o_.pool, src->n_features(), description_);

  // The permutation of the training split (every rank draws all of it: it is cheap).
  std::vector<Index> perm(static_cast<std::size_t>(n_split));
  std::iota(perm.begin(), perm.end(), Index{0});
  RandomStream ps(seed, kPermutationAgent, 0, Purpose::kData);
  ps.shuffle(perm.begin(), perm.end());

  // Reads the split rows `rows` (any order) and returns them in that order, pooled.
  auto read_rows = [&](Split s, std::vector<Index> rows, Vector& labels) {
    std::vector<Index> sorted = rows;
    std::sort(sorted.begin(), sorted.end());
    const Dataset ds = src->read(s, sorted);
    const RowMatrix X = average_pool_images(dense_features(ds), o_.pool);
    const Vector y = class_labels(ds.labels(), src->task());
    RowMatrix out(static_cast<Index>(rows.size()), d_);
    labels.resize(static_cast<Index>(rows.size()));
    for (std::size_t q = 0; q < rows.size(); ++q) {
      const auto at = std::lower_bound(sorted.begin(), sorted.end(), rows[q]) - sorted.begin();
      out.row(static_cast<Index>(q)) = X.row(at);
      labels[static_cast<Index>(q)] = y[at];
    }
    return out;
  };

  // Validation rows, then the standardisation statistics computed on them (file comment).
  Vector val_labels;
  RowMatrix Xv = read_rows(
      Split::kTrain,
      std::vector<Index>(perm.begin() + o_.train_rows, perm.begin() + o_.train_rows + o_.val_rows),
      val_labels);
  const Eigen::RowVectorXd mean = Xv.colwise().mean();
  Eigen::RowVectorXd sd =
      ((Xv.rowwise() - mean).array().square().colwise().sum() / static_cast<double>(Xv.rows()))
          .sqrt()
          .matrix();
  for (Index k = 0; k < d_; ++k) {
    if (!(sd[k] > 1e-8)) sd[k] = 1.0;
  }
  auto standardise = [&](RowMatrix& X) {
    X.rowwise() -= mean;
    X.array().rowwise() /= sd.array();
  };
  standardise(Xv);
  val_ = Dataset(std::move(Xv), std::move(val_labels), Task::kMulticlass, c_);

  // Test rows.
  const Index n_test = o_.test_rows > 0 ? o_.test_rows : n_test_split;
  if (n_test > 0) {
    std::vector<Index> rows(static_cast<std::size_t>(n_test));
    std::iota(rows.begin(), rows.end(), Index{0});
    Vector labels;
    RowMatrix Xt = read_rows(Split::kTest, rows, labels);
    standardise(Xt);
    test_ = Dataset(std::move(Xt), std::move(labels), Task::kMulticlass, c_);
  } else {
    test_ = Dataset::empty(d_, false, Task::kMulticlass, c_);
  }

  // This rank's blocks' training rows, one read for all of them, and their corruption.
  const Index first = placement_.local_first();
  const Index count = placement_.local_count();
  blocks_.resize(static_cast<std::size_t>(count));
  if (count == 0) return;
  const Index j0 = offset(first), j1 = offset(first + count - 1) + share(first + count - 1);
  Vector clean;
  RowMatrix Xtr =
      read_rows(Split::kTrain, std::vector<Index>(perm.begin() + j0, perm.begin() + j1), clean);
  standardise(Xtr);
  for (Index l = 0; l < count; ++l) {
    const Index i = first + l;
    const Index n = share(i), o = offset(i);
    Block& blk = blocks_[static_cast<std::size_t>(l)];
    blk.clean = clean.segment(o - j0, n);
    Vector noisy = blk.clean;
    blk.changed.assign(static_cast<std::size_t>(n), 0);
    for (Index r = 0; r < n; ++r) {
      RandomStream s(seed, kCorruptionAgent, static_cast<std::uint64_t>(o + r), Purpose::kData);
      if (s.uniform() < o_.corruption) {
        noisy[r] = static_cast<double>(s.uniform_int(static_cast<std::uint64_t>(c_)));
        blk.changed[static_cast<std::size_t>(r)] = noisy[r] != blk.clean[r] ? 1 : 0;
      }
    }
    blk.train =
        Dataset(RowMatrix(Xtr.middleRows(o - j0, n)), std::move(noisy), Task::kMulticlass, c_);
  }
}

Index HypercleanProblem::share(Index block) const {
  const Index q = o_.train_rows / m_, rem = o_.train_rows % m_;
  return q + (block < rem ? 1 : 0);
}

Index HypercleanProblem::offset(Index block) const {
  const Index q = o_.train_rows / m_, rem = o_.train_rows % m_;
  return block * q + std::min(block, rem);
}

const HypercleanProblem::Block& HypercleanProblem::local(Index block) const {
  if (block < 0 || block >= m_ || !placement_.is_local(block)) {
    throw Error("hyperclean: block " + std::to_string(block) + " is not held by rank " +
                std::to_string(placement_.rank()));
  }
  return blocks_[static_cast<std::size_t>(placement_.local_index(block))];
}

const Dataset& HypercleanProblem::train_data(Index block) const {
  return local(block).train;
}
const Vector& HypercleanProblem::clean_labels(Index block) const {
  return local(block).clean;
}
const std::vector<char>& HypercleanProblem::corrupted(Index block) const {
  return local(block).changed;
}

const RowMatrix& HypercleanProblem::select(const Dataset& ds, const SampleBatch& batch) {
  const Index n = ds.rows();
  const Vector& y = ds.labels();
  if (batch.all_rows()) {
    rows_.resize(static_cast<std::size_t>(n));
    std::iota(rows_.begin(), rows_.end(), Index{0});
    lab_.resize(static_cast<std::size_t>(n));
    for (Index r = 0; r < n; ++r) lab_[static_cast<std::size_t>(r)] = static_cast<Index>(y[r]);
    return ds.dense();
  }
  const auto idx = batch.rows();
  if (idx.empty()) throw Error("hyperclean: an empty batch has no mean");
  const Index k = static_cast<Index>(idx.size());
  scratch_.resize(k, d_);
  rows_.assign(idx.begin(), idx.end());
  lab_.resize(idx.size());
  for (Index q = 0; q < k; ++q) {
    const Index r = idx[static_cast<std::size_t>(q)];
    if (r < 0 || r >= n) {
      throw Error("hyperclean: sample index " + std::to_string(r) + " outside [0, " +
                  std::to_string(n) + ")");
    }
    scratch_.row(q) = ds.dense().row(r);
    lab_[static_cast<std::size_t>(q)] = static_cast<Index>(y[r]);
  }
  return scratch_;
}

void HypercleanProblem::forward(const RowMatrix& X, const Vector& y) {
  const ConstRowMap W(y.data(), d_ + 1, c_);
  P_.noalias() = X * W.topRows(d_);  // the logits, one GEMM
  P_.rowwise() += W.row(d_);
  loss_.resize(X.rows());
  for (Index r = 0; r < X.rows(); ++r) {
    auto z = P_.row(r);
    const double zmax = z.maxCoeff();  // stable softmax: exp of non-positive numbers only
    const double zc = z[lab_[static_cast<std::size_t>(r)]];
    z.array() = (z.array() - zmax).exp();
    const double s = z.sum();
    z /= s;
    loss_[r] = std::log(s) + zmax - zc;  // logsumexp(z) − z_c
  }
}

void HypercleanProblem::directional(const RowMatrix& X, const Vector& v) {
  const ConstRowMap V(v.data(), d_ + 1, c_);
  U_.noalias() = X * V.topRows(d_);
  U_.rowwise() += V.row(d_);
}

void HypercleanProblem::back(const RowMatrix& X, const RowMatrix& R, Vector& out) const {
  out.resize((d_ + 1) * c_);
  RowMap G(out.data(), d_ + 1, c_);
  G.topRows(d_).noalias() = X.transpose() * R;
  G.row(d_) = R.colwise().sum();
}

void HypercleanProblem::scatter_dense(Index block, Vector& out) const {
  out.setZero(o_.train_rows);
  const Index o = offset(block);
  for (std::size_t q = 0; q < rows_.size(); ++q) out[o + rows_[q]] += t_[static_cast<Index>(q)];
}

void HypercleanProblem::to_indexed(Index block, bool all_rows, IndexedVector& out) {
  const Index o = offset(block);
  out.clear();
  if (all_rows) {  // rows_ = 0..n_i−1: already sorted and distinct
    out.index.resize(rows_.size());
    for (std::size_t q = 0; q < rows_.size(); ++q) out.index[q] = o + rows_[q];
    out.value.assign(t_.data(), t_.data() + t_.size());
    return;
  }
  // Sort the batch entries by row and merge repeated rows (sum their contributions): the index
  // set depends on the batch only.
  order_.resize(rows_.size());
  std::iota(order_.begin(), order_.end(), Index{0});
  std::sort(order_.begin(), order_.end(), [&](Index a, Index b) {
    return rows_[static_cast<std::size_t>(a)] < rows_[static_cast<std::size_t>(b)];
  });
  for (const Index q : order_) {
    const Index j = o + rows_[static_cast<std::size_t>(q)];
    if (!out.index.empty() && out.index.back() == j) {
      out.value.back() += t_[q];
    } else {
      out.index.push_back(j);
      out.value.push_back(t_[q]);
    }
  }
}

double HypercleanProblem::lower_impl(Index block, const Vector& x, const Vector& y,
                                     const SampleBatch& batch, bool want_x, Vector* grad_y) {
  const RowMatrix& X = select(local(block).train, batch);
  forward(X, y);
  const Index n = X.rows(), o = offset(block);
  const double inv_n = 1.0 / static_cast<double>(n);
  double loss = 0;
  if (want_x) t_.resize(n);
  for (Index q = 0; q < n; ++q) {
    const double s = sigmoid(x[o + rows_[static_cast<std::size_t>(q)]]);
    loss += s * loss_[q];
    if (want_x) t_[q] = inv_n * s * (1 - s) * loss_[q];  // (4)
  }
  loss = inv_n * loss + 0.5 * o_.lower_reg * y.squaredNorm();
  if (grad_y) {
    // (3): R = diag(σ/n) (P − Y).
    R_ = P_;
    for (Index q = 0; q < n; ++q) {
      R_(q, lab_[static_cast<std::size_t>(q)]) -= 1;
      R_.row(q) *= inv_n * sigmoid(x[o + rows_[static_cast<std::size_t>(q)]]);
    }
    back(X, R_, *grad_y);
    *grad_y += o_.lower_reg * y;
  }
  return loss;
}

double HypercleanProblem::upper(Index /*block*/, const Vector& /*x*/, const Vector& y,
                                const SampleBatch& batch, Vector* grad_x, Vector* grad_y) {
  const RowMatrix& X = select(val_, batch);
  forward(X, y);
  const Index n = X.rows();
  const double inv_n = 1.0 / static_cast<double>(n);
  if (grad_x) grad_x->setZero(o_.train_rows);
  if (grad_y) {
    R_ = P_;  // (7)
    for (Index q = 0; q < n; ++q) R_(q, lab_[static_cast<std::size_t>(q)]) -= 1;
    R_ *= inv_n;
    back(X, R_, *grad_y);
  }
  return inv_n * loss_.sum();
}

double HypercleanProblem::lower(Index block, const Vector& x, const Vector& y,
                                const SampleBatch& batch, Vector* grad_x, Vector* grad_y) {
  const double g = lower_impl(block, x, y, batch, grad_x != nullptr, grad_y);
  if (grad_x) scatter_dense(block, *grad_x);
  return g;
}

double HypercleanProblem::lower_sparse(Index block, const Vector& x, const Vector& y,
                                       const SampleBatch& batch, IndexedVector* grad_x,
                                       Vector* grad_y) {
  const double g = lower_impl(block, x, y, batch, grad_x != nullptr, grad_y);
  if (grad_x) to_indexed(block, batch.all_rows(), *grad_x);
  return g;
}

void HypercleanProblem::lower_hvp(Index block, const Vector& x, const Vector& y,
                                  const SampleBatch& batch, const Vector& v, Vector& out) {
  const RowMatrix& X = select(local(block).train, batch);
  forward(X, y);
  directional(X, v);
  const Index n = X.rows(), o = offset(block);
  const double inv_n = 1.0 / static_cast<double>(n);
  // (5): row q of R is (σ_q/n) (diag(p) − p pᵀ) u = (σ_q/n) (p ⊙ u − p (pᵀu)).
  R_.resize(n, c_);
  for (Index q = 0; q < n; ++q) {
    const double pu = P_.row(q).dot(U_.row(q));
    const double w = inv_n * sigmoid(x[o + rows_[static_cast<std::size_t>(q)]]);
    R_.row(q) = w * (P_.row(q).cwiseProduct(U_.row(q)) - pu * P_.row(q));
  }
  back(X, R_, out);
  out += o_.lower_reg * v;
}

void HypercleanProblem::cross_impl(Index block, const Vector& x, const Vector& y,
                                   const SampleBatch& batch, const Vector& v) {
  const RowMatrix& X = select(local(block).train, batch);
  forward(X, y);
  directional(X, v);
  const Index n = X.rows(), o = offset(block);
  const double inv_n = 1.0 / static_cast<double>(n);
  t_.resize(n);
  for (Index q = 0; q < n; ++q) {
    // (6): (σ'/n) (p − e_c)ᵀ u.
    const double s = sigmoid(x[o + rows_[static_cast<std::size_t>(q)]]);
    const double r = P_.row(q).dot(U_.row(q)) - U_(q, lab_[static_cast<std::size_t>(q)]);
    t_[q] = inv_n * s * (1 - s) * r;
  }
}

void HypercleanProblem::lower_cross(Index block, const Vector& x, const Vector& y,
                                    const SampleBatch& batch, const Vector& v, Vector& out) {
  cross_impl(block, x, y, batch, v);
  scatter_dense(block, out);
}

void HypercleanProblem::lower_cross_sparse(Index block, const Vector& x, const Vector& y,
                                           const SampleBatch& batch, const Vector& v,
                                           IndexedVector& out) {
  cross_impl(block, x, y, batch, v);
  to_indexed(block, batch.all_rows(), out);
}

std::vector<std::string> HypercleanProblem::lower_metric_names() const {
  return {"test_accuracy", "test_loss", "val_accuracy", "weight_corrupted", "weight_clean"};
}

void HypercleanProblem::evaluate_lower(Index block, const Vector& x, const Vector& y,
                                       std::vector<double>& out) {
  const Block& blk = local(block);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  // Accuracy (argmax of p = argmax of the logits; maxCoeff picks the lowest index on ties) and
  // mean CE of the model on every row of `ds`.
  auto measure = [&](const Dataset& ds, double& acc, double& ce) {
    if (ds.rows() == 0) {
      acc = ce = nan;
      return;
    }
    const RowMatrix& X = select(ds, SampleBatch::all());
    forward(X, y);
    Index correct = 0;
    for (Index r = 0; r < X.rows(); ++r) {
      Index best = 0;
      P_.row(r).maxCoeff(&best);
      if (best == lab_[static_cast<std::size_t>(r)]) ++correct;
    }
    acc = static_cast<double>(correct) / static_cast<double>(X.rows());
    ce = loss_.mean();
  };
  double test_acc = 0, test_ce = 0, val_acc = 0, val_ce = 0;
  measure(test_, test_acc, test_ce);
  measure(val_, val_acc, val_ce);
  double w_bad = 0, w_good = 0;
  Index n_bad = 0, n_good = 0;
  const Index o = offset(block);
  for (std::size_t r = 0; r < blk.changed.size(); ++r) {
    const double s = sigmoid(x[o + static_cast<Index>(r)]);
    if (blk.changed[r]) {
      w_bad += s;
      ++n_bad;
    } else {
      w_good += s;
      ++n_good;
    }
  }
  out = {test_acc, test_ce, val_acc, n_bad > 0 ? w_bad / static_cast<double>(n_bad) : nan,
         n_good > 0 ? w_good / static_cast<double>(n_good) : nan};
}

}  // namespace distopt
