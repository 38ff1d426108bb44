#include "distopt/bilevel/stocbio.hpp"

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
  if (v.size() != n) {
    throw InputError("checkpoint: " + key + " has dimension " + std::to_string(v.size()) +
                     ", expected " + std::to_string(n));
  }
  return v;
}

}  // namespace

void StocbioOptions::validate() const {
  check::nonnegative("lr", lr);
  check::positive("stocbio-inner-lr", inner_lr);
  check::at_least("stocbio-inner-steps", inner_steps, 0);
  check::positive("stocbio-neumann-lr", neumann_lr);
  check::at_least("stocbio-neumann-steps", neumann_steps, 0);
  sampler.validate();
  solve.validate();
}

Stocbio::Stocbio(BilevelContext ctx, const StocbioOptions& options)
    : ctx_(ctx), o_(options), sampler_((o_.validate(), ctx.problem), o_.sampler, ctx.seed) {
  validate_bilevel_problem(ctx_.problem);
  check_bilevel_placement(ctx_.comm, ctx_.problem, "Stocbio");
}

void Stocbio::initialize(const Vector& x0) {
  BilevelProblem& p = ctx_.problem;
  if (x0.size() != p.upper_dim()) {
    throw Error("Stocbio: initial x of dimension " + std::to_string(x0.size()) +
                ", the problem's is " + std::to_string(p.upper_dim()));
  }
  x_ = x0;
  dir_.setZero(x0.size());
  const Placement& pl = p.placement();
  blocks_.assign(static_cast<std::size_t>(pl.local_count()), BlockState{});
  for (Index l = 0; l < pl.local_count(); ++l) {
    blocks_[static_cast<std::size_t>(l)].y = p.initial_lower(pl.local_first() + l);
  }
}

void Stocbio::block_update(Index i, BlockState& b, std::int64_t round, Vector& d,
                           IndexedVector& ds) {
  BilevelProblem& p = ctx_.problem;
  const Index D = o_.inner_steps, Q = o_.neumann_steps;
  const std::int64_t per = D + Q + 2;
  std::int64_t it = (round - 1) * per;  // the sampler iteration of the next batch
  // D inner SGD steps on g_i(x, ·) from the block's warm start.
  for (Index s = 0; s < D; ++s) {
    sampler_.batch(++it, i, batch_);
    p.lower(i, x_, b.y, batch_.lower_batch(), nullptr, &gy_);
    b.y.noalias() -= o_.inner_lr * gy_;
  }
  b.counts.gradients += static_cast<std::uint64_t>(D);
  // ∇f_i on an upper batch.
  sampler_.batch(++it, i, batch_);
  p.upper(i, x_, b.y, batch_.upper_batch(), sparse_ ? nullptr : &fx_, &fy_);
  ++b.counts.gradients;
  // v = η Σ_{j=0..Q} (I − η H_j)···(I − η H_1) ∇_y f, each H_j on its own batch (Algorithm 3).
  term_ = fy_;
  v_ = fy_;
  for (Index j = 0; j < Q; ++j) {
    sampler_.batch(++it, i, batch_);
    p.lower_hvp(i, x_, b.y, batch_.lower_batch(), term_, hv_);
    term_.noalias() -= o_.neumann_lr * hv_;
    v_ += term_;
  }
  b.counts.hvps += static_cast<std::uint64_t>(Q);
  v_ *= o_.neumann_lr;
  // d_i = ∇_x f_i − ∇²_xy g_i v on the last batch.
  sampler_.batch(++it, i, batch_);
  ++b.counts.cross;
  if (sparse_) {
    p.lower_cross_sparse(i, x_, b.y, batch_.lower_batch(), v_, ds);
    for (double& e : ds.value) e = 0.0 - e;  // the dense expression with ∇_x f = 0
    return;
  }
  p.lower_cross(i, x_, b.y, batch_.lower_batch(), v_, cross_);
  d = fx_ - cross_;
}

void Stocbio::step(std::int64_t round) {
  const double t_start = monotonic_seconds();
  BilevelProblem& p = ctx_.problem;
  const Placement& pl = p.placement();
  const Index dim = p.upper_dim();
  const Index first = pl.local_first(), end = pl.end(pl.rank());
  const std::vector<Index>& sampled = sampler_.blocks(round);
  contributions_.reset(dim);
  const double w = 1.0 / static_cast<double>(o_.sampler.blocks_per_iter);
  // Down: x, whole when dense; when sparse, every step of a block reads x on its batch's rows:
  // D + Q + 2 batches of B distinct rows each, the size of the contribution's record.
  const auto batches = static_cast<std::uint64_t>(o_.inner_steps + o_.neumann_steps + 2);
  for (Index i : sampled) {  // increasing block order
    if (i < first || i >= end) continue;
    const double t0 = monotonic_seconds();
    block_update(i, blocks_[static_cast<std::size_t>(i - first)], round, contributions_.dense(),
                 contributions_.entries());
    times_.kernels += monotonic_seconds() - t0;
    contributions_.add(i, w, 1, batches);
  }
  contributions_.finish(dir_, times_);
  x_.noalias() -= o_.lr * dir_;
  times_.total += monotonic_seconds() - t_start;
}

std::uint64_t Stocbio::local_grad_evals() const {
  return local_counts().gradients;
}

OracleCounts Stocbio::local_counts() const {
  return total_counts(blocks_);
}

std::vector<Vector> Stocbio::local_lower() const {
  std::vector<Vector> y;
  y.reserve(blocks_.size());
  for (const auto& b : blocks_) y.push_back(b.y);
  return y;
}

void Stocbio::extra_metrics(MetricRow& row) {
  Vector g;
  bilevel_exact_metrics(ctx_.comm, ctx_.reduction, ctx_.problem, o_.solve, x_, local_lower(),
                        counts_of(blocks_), row, &g);
  times_.report(ctx_.comm, row);
  row.set("estimate_error_sq", (dir_ - g).squaredNorm());
}

void Stocbio::save(StateArchive& out) const {
  out.put("stocbio/x", x_);
  out.put("stocbio/direction", dir_);
  const Placement& pl = ctx_.problem.placement();
  for (std::size_t l = 0; l < blocks_.size(); ++l) {
    const Index i = pl.local_first() + static_cast<Index>(l);
    const BlockState& b = blocks_[l];
    out.put(StateArchive::agent_key(i, "stocbio/y"), b.y);
    out.put_u64(StateArchive::agent_key(i, "stocbio/counts"),
                {b.counts.gradients, b.counts.hvps, b.counts.cross, b.counts.hessians});
  }
}

void Stocbio::load(const StateArchive& in) {
  const BilevelProblem& p = ctx_.problem;
  x_ = get_sized(in, "stocbio/x", p.upper_dim());
  dir_ = get_sized(in, "stocbio/direction", p.upper_dim());
  const Placement& pl = p.placement();
  blocks_.assign(static_cast<std::size_t>(pl.local_count()), BlockState{});
  for (std::size_t l = 0; l < blocks_.size(); ++l) {
    const Index i = pl.local_first() + static_cast<Index>(l);
    BlockState& b = blocks_[l];
    b.y = get_sized(in, StateArchive::agent_key(i, "stocbio/y"), p.lower_dim());
    const std::string ck = StateArchive::agent_key(i, "stocbio/counts");
    const auto& c = in.get_u64(ck);
    if (c.size() != 4) throw InputError("checkpoint: bad " + ck);
    b.counts = OracleCounts{c[0], c[1], c[2], c[3]};
  }
}

}  // namespace distopt
