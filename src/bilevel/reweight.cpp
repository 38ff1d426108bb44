#include "distopt/bilevel/reweight.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "distopt/core/check.hpp"
#include "distopt/core/error.hpp"
#include "distopt/core/logistic_math.hpp"
#include "distopt/core/random.hpp"
#include "distopt/data/image_pooling.hpp"
#include "distopt/data/source.hpp"

namespace distopt {

namespace {

// Stream keys (Purpose::kData, seed = the data seed), in agent slots no block uses: the
// permutation of the pair's training-split rows, and one stream per training row for its flip.
constexpr std::uint64_t kShuffleAgent = (1ull << 62) + 1;
constexpr std::uint64_t kNoiseAgent = (1ull << 62) + 2;

// Features of the rows of `ds` as the file comment says: pooled (pool > 1 on 28×28 images),
// unit ℓ2 norm, then the bias 1; labels c₀ → −1, c₁ → +1.
void featurize(const Dataset& ds, Index pool, const std::array<Index, 2>& classes, RowMatrix& a,
               Vector& b) {
  const RowMatrix pooled = average_pool_images(dense_features(ds), pool);
  const Index n = pooled.rows(), features = pooled.cols();
  a.resize(n, features + 1);
  b.resize(n);
  for (Index r = 0; r < n; ++r) {
    a.row(r).head(features) = pooled.row(r);
    const double norm = a.row(r).head(features).norm();
    if (norm > 0) a.row(r).head(features) /= norm;  // a blank image stays zero
    a(r, features) = 1.0;
    b[r] = static_cast<Index>(ds.labels()[r]) == classes[0] ? -1.0 : 1.0;
  }
}

}  // namespace

void ReweightOptions::validate() const {
  if (classes[0] < 0 || classes[1] < 0) {
    throw ConfigError("reweight-classes", "the classes must be nonnegative labels");
  }
  if (classes[0] == classes[1]) {
    throw ConfigError("reweight-classes",
                      "the two classes must differ, got " + std::to_string(classes[0]) + " twice");
  }
  check::at_least("reweight-train-rows", train_rows, 1);
  check::at_least("reweight-val-rows", val_rows, 1);
  check::in_range("reweight-noise", noise, 0.0, 1.0, false, true);
  image_pool_features("reweight-pool", pool, kPooledImageSide * kPooledImageSide, "");
  check::positive("reweight-temperatures", temperatures[0]);
  check::positive("reweight-temperatures", temperatures[1]);
  if (temperatures[1] < temperatures[0]) {
    throw ConfigError("reweight-temperatures",
                      "the last block's temperature must not be below the first's");
  }
  check::positive("reweight-lower-reg", lower_reg);
}

ReweightProblem::ReweightProblem(const ReweightOptions& options, const std::string& data,
                                 Index blocks, std::uint64_t seed, const Placement& placement,
                                 std::uint64_t max_memory)
    : o_(options), m_(blocks), placement_(placement) {
  o_.validate();
  if (blocks < 1) throw ConfigError("agents", "reweight needs at least one block");
  if (placement.agents() != blocks) {
    throw Error("ReweightProblem: the placement has " + std::to_string(placement.agents()) +
                " agents, not the " + std::to_string(blocks) + " blocks");
  }
  tau_.resize(static_cast<std::size_t>(m_));
  const double t0 = o_.temperatures[0], t1 = o_.temperatures[1];
  for (Index i = 0; i < m_; ++i) {
    // Log-spaced: τ_i = τ_0 (τ_{m−1}/τ_0)^{i/(m−1)}.
    tau_[static_cast<std::size_t>(i)] =
        m_ == 1 ? t0 : t0 * std::pow(t1 / t0, static_cast<double>(i) / static_cast<double>(m_ - 1));
  }

  // The source's errors name --data; here the spec came from --bilevel-data.
  std::unique_ptr<DataSource> src;
  try {
    src = open_source(data, SourceOptions{seed, 0.2, 0, max_memory});
  } catch (const ConfigError& e) {
    if (e.key() != "data") throw;
    throw ConfigError("bilevel-data", e.what());
  }
  if (src->task() != Task::kMulticlass) {
    throw ConfigError("bilevel-data",
                      "reweight needs a multiclass source, '" + src->describe() + "' is not one");
  }
  for (const Index c : o_.classes) {
    if (c >= src->n_classes()) {
      throw ConfigError("reweight-classes", "class " + std::to_string(c) + " is not among the " +
                                                std::to_string(src->n_classes()) + " classes of " +
                                                src->describe());
    }
  }
  image_pool_features("reweight-pool", o_.pool, src->n_features(), src->describe());

  // The pair's rows of a split, increasing.
  auto pair_rows = [&](Split s) {
    const Vector labels = src->labels(s);
    std::vector<Index> rows;
    for (Index r = 0; r < labels.size(); ++r) {
      const auto c = static_cast<Index>(labels[r]);
      if (c == o_.classes[0] || c == o_.classes[1]) rows.push_back(r);
    }
    return rows;
  };
  std::vector<Index> cand = pair_rows(Split::kTrain);
  {
    const Vector labels = src->labels(Split::kTrain);
    for (const Index c : o_.classes) {
      const bool present = std::any_of(cand.begin(), cand.end(),
                                       [&](Index r) { return static_cast<Index>(labels[r]) == c; });
      if (!present) {
        throw ConfigError("reweight-classes", "class " + std::to_string(c) +
                                                  " has no training rows in " + src->describe());
      }
    }
  }
  const Index n = o_.train_rows, nv = o_.val_rows;
  if (n + nv > static_cast<Index>(cand.size())) {
    throw ConfigError("reweight-train-rows",
                      std::to_string(n) + " training + " + std::to_string(nv) +
                          " validation rows (--reweight-val-rows) exceed the " +
                          std::to_string(cand.size()) + " training-split rows of classes " +
                          std::to_string(o_.classes[0]) + " and " + std::to_string(o_.classes[1]));
  }
  RandomStream shuffle(seed, kShuffleAgent, 0, Purpose::kData);
  shuffle.shuffle(cand.begin(), cand.end());

  // Read the selected rows in increasing order (what read() takes), then put them in the
  // permutation's order: training row j is cand[j], validation row j is cand[n + j].
  auto read_in_order = [&](std::span<const Index> rows, Rows& out) {
    std::vector<std::pair<Index, Index>> sorted(rows.size());  // (source row, position)
    for (std::size_t q = 0; q < rows.size(); ++q) sorted[q] = {rows[q], static_cast<Index>(q)};
    std::sort(sorted.begin(), sorted.end());
    std::vector<Index> ids(rows.size());
    for (std::size_t q = 0; q < rows.size(); ++q) ids[q] = sorted[q].first;
    Rows tmp;
    featurize(src->read(Split::kTrain, ids), o_.pool, o_.classes, tmp.a, tmp.b);
    out.a.resize(tmp.a.rows(), tmp.a.cols());
    out.b.resize(tmp.b.size());
    for (std::size_t q = 0; q < rows.size(); ++q) {
      out.a.row(sorted[q].second) = tmp.a.row(static_cast<Index>(q));
      out.b[sorted[q].second] = tmp.b[static_cast<Index>(q)];
    }
  };
  read_in_order(std::span<const Index>(cand.data(), static_cast<std::size_t>(n)), train_);
  read_in_order(std::span<const Index>(cand.data() + n, static_cast<std::size_t>(nv)), val_);
  const std::vector<Index> test_ids = pair_rows(Split::kTest);
  if (test_ids.empty()) {
    test_.a.resize(0, train_.a.cols());
    test_.b.resize(0);
  } else {
    featurize(src->read(Split::kTest, test_ids), o_.pool, o_.classes, test_.a, test_.b);
  }

  // Label noise on the training rows only, one stream per row.
  flipped_.assign(static_cast<std::size_t>(n), 0);
  for (Index j = 0; j < n; ++j) {
    RandomStream s(seed, kNoiseAgent, static_cast<std::uint64_t>(j), Purpose::kData);
    if (s.uniform() < o_.noise) {
      flipped_[static_cast<std::size_t>(j)] = 1;
      train_.b[j] = -train_.b[j];
    }
  }
}

double ReweightProblem::temperature(Index block) const {
  if (block < 0 || block >= m_) {
    throw Error("reweight: block " + std::to_string(block) + " outside [0, " + std::to_string(m_) +
                ")");
  }
  return tau_[static_cast<std::size_t>(block)];
}

void ReweightProblem::check_local(Index block) const {
  if (block < 0 || block >= m_ || !placement_.is_local(block)) {
    throw Error("reweight: block " + std::to_string(block) + " is not held by rank " +
                std::to_string(placement_.rank()));
  }
}

void ReweightProblem::check_upper(const Vector& x) const {
  if (x.size() != upper_dim()) {
    throw Error("reweight: x has " + std::to_string(x.size()) + " entries, not " +
                std::to_string(upper_dim()));
  }
}

const ReweightProblem::Rows& ReweightProblem::select(const Rows& rows, const SampleBatch& batch) {
  if (batch.all_rows()) return rows;
  const auto idx = batch.rows();
  if (idx.empty()) throw Error("reweight: an empty batch has no mean");
  const Index n = rows.a.rows();
  scratch_.a.resize(static_cast<Index>(idx.size()), rows.a.cols());
  scratch_.b.resize(static_cast<Index>(idx.size()));
  for (std::size_t q = 0; q < idx.size(); ++q) {
    const Index r = idx[q];
    if (r < 0 || r >= n) {
      throw Error("reweight: sample index " + std::to_string(r) + " outside [0, " +
                  std::to_string(n) + ")");
    }
    scratch_.a.row(static_cast<Index>(q)) = rows.a.row(r);
    scratch_.b[static_cast<Index>(q)] = rows.b[r];
  }
  return scratch_;
}

void ReweightProblem::structure(const SampleBatch& batch, std::vector<Index>& index) {
  const Index n = upper_dim();
  if (batch.all_rows()) {
    index.resize(static_cast<std::size_t>(n));
    slot_.resize(static_cast<std::size_t>(n));
    for (Index j = 0; j < n; ++j) {
      index[static_cast<std::size_t>(j)] = j;
      slot_[static_cast<std::size_t>(j)] = j;
    }
    return;
  }
  // Sort (row, position) pairs: O(|S| log |S|), independent of n.
  const auto idx = batch.rows();
  order_.resize(idx.size());
  for (std::size_t q = 0; q < idx.size(); ++q) order_[q] = {idx[q], static_cast<Index>(q)};
  std::sort(order_.begin(), order_.end());
  index.clear();
  slot_.resize(idx.size());
  for (const auto& [row, q] : order_) {
    if (index.empty() || index.back() != row) index.push_back(row);
    slot_[static_cast<std::size_t>(q)] = static_cast<Index>(index.size()) - 1;
  }
}

void ReweightProblem::losses(const Rows& rows, const Vector& y, double tau) {
  const Index k = rows.a.rows();
  u_.noalias() = rows.a * y;  // GEMV on the contiguous batch rows
  ell_.resize(k);
  coef_.resize(k);
  h_.resize(k);
  for (Index q = 0; q < k; ++q) {
    const double z = rows.b[q] * u_[q] / tau;
    ell_[q] = softplus(-z);                       // (1)
    coef_[q] = -(rows.b[q] / tau) * sigmoid(-z);  // ∂ℓ/∂(yᵀa)
    h_[q] = sigmoid_curvature(z) / (tau * tau);   // ∂²ℓ/∂(yᵀa)², b² = 1
  }
}

void ReweightProblem::weights(const SampleBatch& batch, Index count, const Vector& x,
                              bool derivative) {
  w_.resize(count);
  if (derivative) dw_.resize(count);
  for (Index q = 0; q < count; ++q) {
    const double w = sigmoid(x[row_of(batch, q)]);
    w_[q] = w;
    if (derivative) dw_[q] = w * (1.0 - w);  // σ' = σ(1 − σ)
  }
}

void ReweightProblem::scatter(const IndexedVector& s, Index n, Vector& out) {
  out.setZero(n);
  for (std::size_t k = 0; k < s.index.size(); ++k) out[s.index[k]] = s.value[k];
}

double ReweightProblem::upper(Index block, const Vector& x, const Vector& y,
                              const SampleBatch& batch, Vector* grad_x, Vector* grad_y) {
  check_local(block);
  check_upper(x);
  const Rows& rows = select(val_, batch);
  losses(rows, y, temperature(block));
  const double inv_n = 1.0 / static_cast<double>(rows.a.rows());
  if (grad_y) grad_y->noalias() = inv_n * (rows.a.transpose() * coef_);
  if (grad_x) grad_x->setZero(upper_dim());
  return inv_n * ell_.sum();
}

double ReweightProblem::lower_impl(Index block, const Vector& x, const Vector& y,
                                   const SampleBatch& batch, IndexedVector* grad_x,
                                   Vector* grad_y) {
  check_local(block);
  check_upper(x);
  const Rows& rows = select(train_, batch);
  const Index k = rows.a.rows();
  const double inv_n = 1.0 / static_cast<double>(k);
  losses(rows, y, temperature(block));
  weights(batch, k, x, grad_x != nullptr);
  if (grad_y) {
    t_ = w_.cwiseProduct(coef_);
    grad_y->noalias() = inv_n * (rows.a.transpose() * t_);  // (4)
    *grad_y += o_.lower_reg * y;
  }
  if (grad_x) {
    structure(batch, grad_x->index);
    grad_x->value.assign(grad_x->index.size(), 0.0);
    for (Index q = 0; q < k; ++q) {
      grad_x->value[static_cast<std::size_t>(slot_[static_cast<std::size_t>(q)])] +=
          inv_n * dw_[q] * ell_[q];
    }
  }
  return inv_n * w_.dot(ell_) + 0.5 * o_.lower_reg * y.squaredNorm();
}

double ReweightProblem::lower(Index block, const Vector& x, const Vector& y,
                              const SampleBatch& batch, Vector* grad_x, Vector* grad_y) {
  if (!grad_x) return lower_impl(block, x, y, batch, nullptr, grad_y);
  const double g = lower_impl(block, x, y, batch, &sparse_, grad_y);
  scatter(sparse_, upper_dim(), *grad_x);
  return g;
}

double ReweightProblem::lower_sparse(Index block, const Vector& x, const Vector& y,
                                     const SampleBatch& batch, IndexedVector* grad_x,
                                     Vector* grad_y) {
  return lower_impl(block, x, y, batch, grad_x, grad_y);
}

void ReweightProblem::lower_hvp(Index block, const Vector& x, const Vector& y,
                                const SampleBatch& batch, const Vector& v, Vector& out) {
  check_local(block);
  check_upper(x);
  const Rows& rows = select(train_, batch);
  const Index k = rows.a.rows();
  losses(rows, y, temperature(block));
  weights(batch, k, x, false);
  t_.noalias() = rows.a * v;
  t_.array() *= w_.array() * h_.array();
  out.noalias() = (1.0 / static_cast<double>(k)) * (rows.a.transpose() * t_);  // (5) v
  out += o_.lower_reg * v;
}

void ReweightProblem::lower_cross_sparse(Index block, const Vector& x, const Vector& y,
                                         const SampleBatch& batch, const Vector& v,
                                         IndexedVector& out) {
  check_local(block);
  check_upper(x);
  const Rows& rows = select(train_, batch);
  const Index k = rows.a.rows();
  const double inv_n = 1.0 / static_cast<double>(k);
  losses(rows, y, temperature(block));
  weights(batch, k, x, true);
  t_.noalias() = rows.a * v;  // a_jᵀ v per position
  structure(batch, out.index);
  out.value.assign(out.index.size(), 0.0);
  for (Index q = 0; q < k; ++q) {
    out.value[static_cast<std::size_t>(slot_[static_cast<std::size_t>(q)])] +=
        inv_n * dw_[q] * coef_[q] * t_[q];
  }
}

void ReweightProblem::lower_cross(Index block, const Vector& x, const Vector& y,
                                  const SampleBatch& batch, const Vector& v, Vector& out) {
  lower_cross_sparse(block, x, y, batch, v, sparse_);
  scatter(sparse_, upper_dim(), out);
}

void ReweightProblem::lower_hessian(Index block, const Vector& x, const Vector& y,
                                    const SampleBatch& batch, Matrix& out) {
  check_local(block);
  check_upper(x);
  const Rows& rows = select(train_, batch);
  const Index k = rows.a.rows(), d = rows.a.cols();
  losses(rows, y, temperature(block));
  weights(batch, k, x, false);
  // A_Sᵀ D A_S with D = diag(σ(x_j) h_j) ≥ 0, as (D^½ A_S)ᵀ (D^½ A_S): a symmetric rank-k update
  // into the lower triangle, mirrored, so the result is exactly symmetric.
  t_ = (w_.array() * h_.array()).sqrt().matrix();
  scaled_.noalias() = t_.asDiagonal() * rows.a;
  out.setZero(d, d);
  out.selfadjointView<Eigen::Lower>().rankUpdate(scaled_.transpose(), 1.0 / static_cast<double>(k));
  out.triangularView<Eigen::StrictlyUpper>() = out.transpose();
  out.diagonal().array() += o_.lower_reg;
}

std::vector<std::string> ReweightProblem::lower_metric_names() const {
  return {"test_accuracy", "test_loss", "val_accuracy", "weight_flipped", "weight_clean"};
}

void ReweightProblem::evaluate_lower(Index block, const Vector& x, const Vector& y,
                                     std::vector<double>& out) {
  check_local(block);
  check_upper(x);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double tau = temperature(block);
  auto accuracy = [&](const Rows& rows) {
    if (rows.a.rows() == 0) return nan;
    const Vector u = rows.a * y;
    Index correct = 0;
    for (Index q = 0; q < u.size(); ++q) correct += ((u[q] > 0 ? 1.0 : -1.0) == rows.b[q]);
    return static_cast<double>(correct) / static_cast<double>(u.size());
  };
  double test_loss = nan;
  if (test_.a.rows() > 0) {
    losses(test_, y, tau);
    test_loss = ell_.mean();
  }
  double wf = 0, wc = 0;
  Index nf = 0, nc = 0;
  for (Index j = 0; j < x.size(); ++j) {
    const double w = sigmoid(x[j]);
    if (flipped(j)) {
      wf += w;
      ++nf;
    } else {
      wc += w;
      ++nc;
    }
  }
  out = {accuracy(test_), test_loss, accuracy(val_), nf ? wf / static_cast<double>(nf) : nan,
         nc ? wc / static_cast<double>(nc) : nan};
}

}  // namespace distopt
