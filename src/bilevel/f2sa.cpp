#include "distopt/bilevel/f2sa.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "distopt/bilevel/bilevel_metrics.hpp"
#include "distopt/core/check.hpp"
#include "distopt/core/error.hpp"
#include "distopt/io/metrics.hpp"
#include "distopt/method/state_archive.hpp"

namespace distopt {

namespace {

Vector get_sized(const StateArchive& in, const std::string& key, Index n) {
  Vector v = in.get_vector(key);
  if (v.size() != n) throw InputError("checkpoint: " + key + " has the wrong dimension");
  return v;
}

}  // namespace

double F2saOptions::lambda_at(std::int64_t k) const {
  return std::min(lambda0 + static_cast<double>(k - 1) * lambda_step, lambda_max);
}

void F2saOptions::validate() const {
  check::positive("f2sa-alpha", alpha);
  check::positive("f2sa-gamma", gamma);
  check::nonnegative("f2sa-xi", xi);
  check::positive("f2sa-lambda0", lambda0);
  check::nonnegative("f2sa-lambda-step", lambda_step);
  if (std::isnan(lambda_max) || !(lambda_max >= lambda0)) {
    throw ConfigError("f2sa-lambda-max",
                      "must be at least f2sa-lambda0 (got " + std::to_string(lambda_max) + ")");
  }
  check::at_least("f2sa-inner-steps", inner_steps, 1);
  check::nonnegative("f2sa-step-decay", step_decay);
  sampler.validate();
  solve.validate();
}

F2sa::F2sa(BilevelContext ctx, const F2saOptions& options)
    : ctx_(ctx), o_(options), sampler_((o_.validate(), ctx.problem), o_.sampler, ctx.seed) {
  validate_bilevel_problem(ctx_.problem);
  check_bilevel_placement(ctx_.comm, ctx_.problem, "F2sa");
}

void F2sa::initialize(const Vector& x0) {
  BilevelProblem& p = ctx_.problem;
  if (x0.size() != p.upper_dim()) {
    throw Error("F2sa: initial x of dimension " + std::to_string(x0.size()) +
                ", the problem's is " + std::to_string(p.upper_dim()));
  }
  x_ = x0;
  dir_.setZero(x0.size());
  lambda_ = o_.lambda0;
  const Placement& pl = p.placement();
  blocks_.assign(static_cast<std::size_t>(pl.local_count()), BlockState{});
  for (Index l = 0; l < pl.local_count(); ++l) {
    BlockState& b = blocks_[static_cast<std::size_t>(l)];
    b.y = p.initial_lower(pl.local_first() + l);
    b.z = b.y;
  }
}

void F2sa::block_update(Index i, BlockState& b, std::int64_t round, double lambda, double alpha,
                        double gamma, Vector& d, IndexedVector& ds) {
  BilevelProblem& p = ctx_.problem;
  const Index T = o_.inner_steps;
  const std::int64_t base = (round - 1) * (T + 1);
  for (Index s = 0; s < T; ++s) {
    sampler_.batch(base + s + 1, i, batch_);
    const SampleBatch lo = batch_.lower_batch(), up = batch_.upper_batch();
    p.lower(i, x_, b.z, lo, nullptr, &gz_);
    ++b.counts.gradients;
    if (o_.y_inner || s == 0) {
      p.upper(i, x_, b.y, up, nullptr, &fy_);
      p.lower(i, x_, b.y, lo, nullptr, &gy_);
      b.counts.gradients += 2;
      b.y.noalias() -= alpha * (fy_ + lambda * gy_);
    }
    b.z.noalias() -= gamma * gz_;
  }
  sampler_.batch(base + T + 1, i, batch_);
  const SampleBatch lo = batch_.lower_batch(), up = batch_.upper_batch();
  if (sparse_) {
    // ∇_x f_i = 0; ∇_x g_i at y and at z on one batch share their index set.
    p.lower_sparse(i, x_, b.y, lo, &gxs_, nullptr);
    p.lower_sparse(i, x_, b.z, lo, &gzxs_, nullptr);
    b.counts.gradients += 2;
    check_same_support(p, gxs_, gzxs_);
    ds.index = gxs_.index;
    ds.value.resize(gxs_.value.size());
    // The dense expression fx + λ (gx − gzx) with fx = 0, so both paths give the same bits.
    for (std::size_t k = 0; k < ds.value.size(); ++k) {
      ds.value[k] = 0.0 + lambda * (gxs_.value[k] - gzxs_.value[k]);
    }
    return;
  }
  p.upper(i, x_, b.y, up, &fx_, nullptr);
  p.lower(i, x_, b.y, lo, &gx_, nullptr);
  p.lower(i, x_, b.z, lo, &gzx_, nullptr);
  b.counts.gradients += 3;
  d = fx_ + lambda * (gx_ - gzx_);
}

void F2sa::step(std::int64_t round) {
  const double t_start = monotonic_seconds();
  BilevelProblem& p = ctx_.problem;
  const Placement& pl = p.placement();
  const Index dim = p.upper_dim();
  const Index first = pl.local_first(), end = pl.end(pl.rank());
  const double lambda = o_.lambda_at(round);
  const double decay =
      o_.step_decay == 0 ? 1.0 : std::pow(static_cast<double>(round), -o_.step_decay);
  const double alpha = o_.alpha * decay, gamma = o_.gamma * decay;
  const std::vector<Index>& sampled = sampler_.blocks(round);
  contributions_.reset(dim);
  const double w = 1.0 / static_cast<double>(o_.sampler.blocks_per_iter);
  for (Index i : sampled) {  // increasing block order
    if (i < first || i >= end) continue;
    const double t0 = monotonic_seconds();
    block_update(i, blocks_[static_cast<std::size_t>(i - first)], round, lambda, alpha, gamma,
                 contributions_.dense(), contributions_.entries());
    times_.kernels += monotonic_seconds() - t0;
    // Down: x, whole when dense, and when sparse its entries on the rows of each of the block's
    // T + 1 batches (every batch has the same number of distinct rows, B, so T + 1 records of the
    // direction's size).
    contributions_.add(i, w, 1, static_cast<std::uint64_t>(o_.inner_steps + 1));
  }
  contributions_.finish(dir_, times_);
  x_.noalias() -= (o_.xi * alpha) * dir_;
  lambda_ = lambda;
  times_.total += monotonic_seconds() - t_start;
}

std::uint64_t F2sa::local_grad_evals() const {
  return local_counts().gradients;
}

OracleCounts F2sa::local_counts() const {
  return total_counts(blocks_);
}

std::vector<Vector> F2sa::local_lower() const {
  std::vector<Vector> z;
  z.reserve(blocks_.size());
  for (const auto& b : blocks_) z.push_back(b.z);
  return z;
}

std::vector<Vector> F2sa::local_penalty() const {
  std::vector<Vector> y;
  y.reserve(blocks_.size());
  for (const auto& b : blocks_) y.push_back(b.y);
  return y;
}

void F2sa::extra_metrics(MetricRow& row) {
  Vector g;
  bilevel_exact_metrics(ctx_.comm, ctx_.reduction, ctx_.problem, o_.solve, x_, local_lower(),
                        counts_of(blocks_), row, &g);
  times_.report(ctx_.comm, row);
  row.set("f2sa_lambda", lambda_);
  row.set("estimate_error_sq", (dir_ - g).squaredNorm());
}

void F2sa::save(StateArchive& out) const {
  out.put("f2sa/x", x_);
  out.put("f2sa/direction", dir_);
  out.put_scalar("f2sa/lambda", lambda_);
  const Placement& pl = ctx_.problem.placement();
  for (std::size_t l = 0; l < blocks_.size(); ++l) {
    const Index i = pl.local_first() + static_cast<Index>(l);
    const BlockState& b = blocks_[l];
    out.put(StateArchive::agent_key(i, "f2sa/y"), b.y);
    out.put(StateArchive::agent_key(i, "f2sa/z"), b.z);
    out.put_u64(StateArchive::agent_key(i, "f2sa/counts"),
                {b.counts.gradients, b.counts.hvps, b.counts.cross, b.counts.hessians});
  }
}

void F2sa::load(const StateArchive& in) {
  const BilevelProblem& p = ctx_.problem;
  const Index d = p.upper_dim(), k = p.lower_dim();
  x_ = get_sized(in, "f2sa/x", d);
  dir_ = get_sized(in, "f2sa/direction", d);
  lambda_ = in.get_scalar("f2sa/lambda");
  const Placement& pl = p.placement();
  blocks_.assign(static_cast<std::size_t>(pl.local_count()), BlockState{});
  for (std::size_t l = 0; l < blocks_.size(); ++l) {
    const Index i = pl.local_first() + static_cast<Index>(l);
    BlockState& b = blocks_[l];
    b.y = get_sized(in, StateArchive::agent_key(i, "f2sa/y"), k);
    b.z = get_sized(in, StateArchive::agent_key(i, "f2sa/z"), k);
    const std::string ck = StateArchive::agent_key(i, "f2sa/counts");
    const auto& c = in.get_u64(ck);
    if (c.size() != 4) throw InputError("checkpoint: bad " + ck);
    b.counts = OracleCounts{c[0], c[1], c[2], c[3]};
  }
}

}  // namespace distopt
