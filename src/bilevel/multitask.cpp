#include "distopt/bilevel/multitask.hpp"

#include <Eigen/Cholesky>
#include <cmath>
#include <string>

#include "distopt/core/check.hpp"
#include "distopt/core/error.hpp"
#include "distopt/core/random.hpp"

namespace distopt {

namespace {

// Stream keys (all with Purpose::kData, seed = the problem's seed): W* comes from an agent slot no
// block uses; θ_i and the rows of block i from the block's own slot, at steps that never collide
// (training row r: step r; validation row r: step kValidationStep + r; θ_i: step kTaskStep).
constexpr std::uint64_t kSharedAgent = 1ull << 62;
constexpr std::uint64_t kTaskStep = 1ull << 62;
constexpr std::uint64_t kValidationStep = 1ull << 61;

using ConstRowMap = Eigen::Map<const RowMatrix>;
using RowMap = Eigen::Map<RowMatrix>;

}  // namespace

void MultitaskOptions::validate() const {
  check::at_least("multitask-features", features, 1);
  check::at_least("multitask-rank", rank, 1);
  check::at_least("multitask-train-rows", train_rows, 1);
  check::at_least("multitask-val-rows", val_rows, 1);
  check::positive("bilevel-lower-reg", lower_reg);
  check::nonnegative("bilevel-upper-reg", upper_reg);
  check::nonnegative("multitask-noise", noise);
}

MultitaskProblem::MultitaskProblem(const MultitaskOptions& options, Index blocks,
                                   std::uint64_t seed, const Placement& placement)
    : o_(options),
      m_(blocks),
      p_(options.features),
      k_(options.rank),
      seed_(seed),
      placement_(placement) {
  o_.validate();
  if (blocks < 1) throw ConfigError("agents", "multitask needs at least one block");
  if (placement.agents() != blocks) {
    throw Error("MultitaskProblem: the placement has " + std::to_string(placement.agents()) +
                " agents, not the " + std::to_string(blocks) + " blocks");
  }
  const Vector wstar = planted_representation();
  const ConstRowMap W(wstar.data(), p_, k_);
  const Index first = placement_.local_first();
  blocks_.resize(static_cast<std::size_t>(placement_.local_count()));
  for (Index l = 0; l < placement_.local_count(); ++l) {
    const Index i = first + l;
    const Vector w = W * task_vector(i);  // the task's planted linear model on the features
    auto fill = [&](Rows& rows, Index n, std::uint64_t step0) {
      rows.a.resize(n, p_);
      rows.b.resize(n);
      for (Index r = 0; r < n; ++r) {
        RandomStream s(seed_, static_cast<std::uint64_t>(i), step0 + static_cast<std::uint64_t>(r),
                       Purpose::kData);
        double dot = 0;
        for (Index j = 0; j < p_; ++j) {
          const double v = s.normal();
          rows.a(r, j) = v;
          dot += v * w[j];
        }
        rows.b[r] = dot + o_.noise * s.normal();
      }
    };
    Block& blk = blocks_[static_cast<std::size_t>(l)];
    fill(blk.train, o_.train_rows, 0);
    fill(blk.val, o_.val_rows, kValidationStep);
  }
}

Vector MultitaskProblem::planted_representation() const {
  RandomStream s(seed_, kSharedAgent, 0, Purpose::kData);
  Vector w(p_ * k_);
  const double scale = 1.0 / std::sqrt(static_cast<double>(p_));
  for (Index j = 0; j < w.size(); ++j) w[j] = scale * s.normal();
  return w;
}

Vector MultitaskProblem::task_vector(Index block) const {
  RandomStream s(seed_, static_cast<std::uint64_t>(block), kTaskStep, Purpose::kData);
  Vector t(k_);
  const double scale = 1.0 / std::sqrt(static_cast<double>(k_));
  for (Index c = 0; c < k_; ++c) t[c] = scale * s.normal();
  return t;
}

Vector MultitaskProblem::initial_upper(std::uint64_t seed) const {
  RandomStream s(seed, kSharedAgent, 0, Purpose::kModelInit);
  Vector w(p_ * k_);
  const double scale = 1.0 / std::sqrt(static_cast<double>(p_));
  for (Index j = 0; j < w.size(); ++j) w[j] = scale * s.normal();
  return w;
}

const MultitaskProblem::Block& MultitaskProblem::local(Index block) const {
  if (block < 0 || block >= m_ || !placement_.is_local(block)) {
    throw Error("multitask: block " + std::to_string(block) + " is not held by rank " +
                std::to_string(placement_.rank()));
  }
  return blocks_[static_cast<std::size_t>(placement_.local_index(block))];
}

const MultitaskProblem::Rows& MultitaskProblem::select(const Rows& rows, const SampleBatch& batch,
                                                       Rows& scratch) const {
  if (batch.all_rows()) return rows;
  const auto idx = batch.rows();
  if (idx.empty()) throw Error("multitask: an empty batch has no mean");
  const Index n = rows.a.rows();
  scratch.a.resize(static_cast<Index>(idx.size()), p_);
  scratch.b.resize(static_cast<Index>(idx.size()));
  for (std::size_t q = 0; q < idx.size(); ++q) {
    const Index r = idx[q];
    if (r < 0 || r >= n) {
      throw Error("multitask: sample index " + std::to_string(r) + " outside [0, " +
                  std::to_string(n) + ")");
    }
    scratch.a.row(static_cast<Index>(q)) = rows.a.row(r);
    scratch.b[static_cast<Index>(q)] = rows.b[r];
  }
  return scratch;
}

double MultitaskProblem::loss_and_grads(const Rows& rows, const Vector& x, const Vector& y,
                                        double y_reg, double w_reg, Vector* grad_x,
                                        Vector* grad_y) {
  const ConstRowMap W(x.data(), p_, k_);
  const double inv_n = 1.0 / static_cast<double>(rows.a.rows());
  u_.noalias() = W * y;
  z_.noalias() = rows.a * u_;
  z_ -= rows.b;  // the residual r
  double loss = 0.5 * inv_n * z_.squaredNorm();
  if (y_reg != 0) loss += 0.5 * y_reg * y.squaredNorm();
  if (w_reg != 0) loss += 0.5 * w_reg * x.squaredNorm();
  if (grad_x || grad_y) {
    s_.noalias() = inv_n * (rows.a.transpose() * z_);  // (1/n) Aᵀ r
  }
  if (grad_y) {
    grad_y->noalias() = W.transpose() * s_;
    if (y_reg != 0) *grad_y += y_reg * y;
  }
  if (grad_x) {
    grad_x->resize(p_ * k_);
    RowMap G(grad_x->data(), p_, k_);
    G.noalias() = s_ * y.transpose();
    if (w_reg != 0) *grad_x += w_reg * x;
  }
  return loss;
}

double MultitaskProblem::upper(Index block, const Vector& x, const Vector& y,
                               const SampleBatch& batch, Vector* grad_x, Vector* grad_y) {
  const Rows& rows = select(local(block).val, batch, scratch_);
  return loss_and_grads(rows, x, y, 0.0, o_.upper_reg, grad_x, grad_y);
}

double MultitaskProblem::lower(Index block, const Vector& x, const Vector& y,
                               const SampleBatch& batch, Vector* grad_x, Vector* grad_y) {
  const Rows& rows = select(local(block).train, batch, scratch_);
  return loss_and_grads(rows, x, y, o_.lower_reg, 0.0, grad_x, grad_y);
}

void MultitaskProblem::lower_hvp(Index block, const Vector& x, const Vector& /*y*/,
                                 const SampleBatch& batch, const Vector& v, Vector& out) {
  const Rows& rows = select(local(block).train, batch, scratch_);
  const ConstRowMap W(x.data(), p_, k_);
  const double inv_n = 1.0 / static_cast<double>(rows.a.rows());
  u_.noalias() = W * v;
  z_.noalias() = rows.a * u_;
  s_.noalias() = inv_n * (rows.a.transpose() * z_);
  out.noalias() = W.transpose() * s_;
  out += o_.lower_reg * v;
}

void MultitaskProblem::lower_cross(Index block, const Vector& x, const Vector& y,
                                   const SampleBatch& batch, const Vector& v, Vector& out) {
  const Rows& rows = select(local(block).train, batch, scratch_);
  const ConstRowMap W(x.data(), p_, k_);
  const double inv_n = 1.0 / static_cast<double>(rows.a.rows());
  // ∇_W ⟨∇_y g, v⟩ = (1/n) [Aᵀ r vᵀ + Aᵀ A W v yᵀ]
  u_.noalias() = W * y;
  z_.noalias() = rows.a * u_;
  z_ -= rows.b;
  s_.noalias() = inv_n * (rows.a.transpose() * z_);  // (1/n) Aᵀ r
  u_.noalias() = W * v;
  z_.noalias() = rows.a * u_;
  t_.noalias() = inv_n * (rows.a.transpose() * z_);  // (1/n) Aᵀ A W v
  out.resize(p_ * k_);
  RowMap G(out.data(), p_, k_);
  G.noalias() = s_ * v.transpose();
  G.noalias() += t_ * y.transpose();
}

void MultitaskProblem::lower_hessian(Index block, const Vector& x, const Vector& /*y*/,
                                     const SampleBatch& batch, Matrix& out) {
  const Rows& rows = select(local(block).train, batch, scratch_);
  const ConstRowMap W(x.data(), p_, k_);
  const double inv_n = 1.0 / static_cast<double>(rows.a.rows());
  const Matrix M = rows.a * W;  // n × k
  out.noalias() = inv_n * (M.transpose() * M);
  out.diagonal().array() += o_.lower_reg;
}

Vector MultitaskProblem::lower_solution(Index block, const Vector& x) const {
  const Rows& rows = local(block).train;
  const ConstRowMap W(x.data(), p_, k_);
  const double inv_n = 1.0 / static_cast<double>(rows.a.rows());
  const Matrix M = rows.a * W;
  Matrix H = inv_n * (M.transpose() * M);
  H.diagonal().array() += o_.lower_reg;
  const Vector rhs = inv_n * (M.transpose() * rows.b);
  Eigen::LLT<Matrix> llt(H);
  if (llt.info() != Eigen::Success)
    throw Error("multitask: lower Hessian is not positive definite");
  return llt.solve(rhs);
}

double MultitaskProblem::upper_at_solution(Index block, const Vector& x) {
  const Vector y = lower_solution(block, x);
  return upper(block, x, y, SampleBatch::all(), nullptr, nullptr);
}

}  // namespace distopt
