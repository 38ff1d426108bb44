#include "distopt/bilevel/bsvrb.hpp"

#include <Eigen/LU>
#include <algorithm>
#include <cmath>
#include <string>

#include "distopt/bilevel/bilevel_metrics.hpp"
#include "distopt/bilevel/variance_reduction.hpp"
#include "distopt/core/check.hpp"
#include "distopt/core/error.hpp"
#include "distopt/core/random.hpp"
#include "distopt/io/metrics.hpp"
#include "distopt/method/state_archive.hpp"

namespace distopt {

namespace {

// The agent slot of the replicated start's stream (no block has this id).
constexpr std::uint64_t kReplicatedSlot = (1ull << 62) + 2;

// cs = (0 − a) − c (0 − b) entrywise: the dense contribution (∇_x f − a) − c (∇_x f − b) with
// ∇_x f = 0, written the same way so that the sparse and dense paths give the same bits.
void combine_sparse(const BilevelProblem& p, const IndexedVector& a, const IndexedVector& b,
                    double c, IndexedVector& cs) {
  check_same_support(p, a, b);
  cs.index = a.index;
  cs.value.resize(a.value.size());
  for (std::size_t k = 0; k < a.value.size(); ++k) {
    cs.value[k] = (0.0 - a.value[k]) - c * (0.0 - b.value[k]);
  }
}

void fill_uniform(RandomStream& rng, Vector& v, Index n) {
  v.resize(n);
  for (Index j = 0; j < n; ++j) v[j] = rng.uniform();
}

void fill_uniform(RandomStream& rng, Matrix& m, Index n) {
  m.resize(n, n);
  for (Index r = 0; r < n; ++r) {
    for (Index c = 0; c < n; ++c) m(r, c) = rng.uniform();
  }
}

Vector flatten(const Matrix& m) {
  return Eigen::Map<const Vector>(m.data(), m.size());
}

Matrix unflatten(const Vector& v, Index n, const std::string& key) {
  if (v.size() != n * n) throw InputError("checkpoint: " + key + " has the wrong dimension");
  return Eigen::Map<const Matrix>(v.data(), n, n);
}

Vector get_sized(const StateArchive& in, const std::string& key, Index n) {
  Vector v = in.get_vector(key);
  if (v.size() != n) throw InputError("checkpoint: " + key + " has the wrong dimension");
  return v;
}

}  // namespace

BsvrbInit bsvrb_init_from_string(const std::string& s) {
  if (s == "reference") return BsvrbInit::kReference;
  if (s == "zero") return BsvrbInit::kZero;
  throw ConfigError("bsvrb-init", "must be reference or zero (got '" + s + "')");
}

const char* to_string(BsvrbInit init) {
  return init == BsvrbInit::kReference ? "reference" : "zero";
}

double BsvrbOptions::effective_tau() const {
  if (tau != 0) return tau;
  return version == BsvrbVersion::kV1 ? 0.5 : 1.0;
}

double BsvrbOptions::effective_tau_v() const {
  return tau_v != 0 ? tau_v : effective_tau();
}

void BsvrbOptions::validate() const {
  check::nonnegative("lr", lr);
  check::in_range("bsvrb-alpha", alpha, 0.0, 1.0, /*lo_open=*/true);
  check::nonnegative("bsvrb-gamma", gamma);
  check::in_range("bsvrb-beta", beta, 0.0, 1.0, /*lo_open=*/true);
  check::nonnegative("bsvrb-tau", tau);
  check::nonnegative("bsvrb-tau-v", tau_v);
  check::positive("bsvrb-hessian-bound", hessian_bound);
  check::positive("bsvrb-v-bound", v_bound);
  sampler.validate();
  solve.validate();
}

Bsvrb::Bsvrb(BilevelContext ctx, const BsvrbOptions& options)
    : ctx_(ctx), o_(options), sampler_((o_.validate(), ctx.problem), o_.sampler, ctx.seed) {
  validate_bilevel_problem(ctx_.problem);
  check_bilevel_placement(ctx_.comm, ctx_.problem, "Bsvrb");
  if (o_.version == BsvrbVersion::kV1 && !ctx_.problem.has_lower_hessian()) {
    throw ConfigError("algorithm", "bsvrb1 needs the lower Hessian, which bilevel problem '" +
                                       ctx_.problem.name() +
                                       "' does not form (bsvrb2 needs only Hessian-vector "
                                       "products)");
  }
}

std::string Bsvrb::name() const {
  return o_.version == BsvrbVersion::kV1 ? "bsvrb1" : "bsvrb2";
}

void Bsvrb::initialize(const Vector& x0) {
  BilevelProblem& p = ctx_.problem;
  const Index d = p.upper_dim(), k = p.lower_dim();
  if (x0.size() != d) {
    throw Error("Bsvrb: initial x of dimension " + std::to_string(x0.size()) +
                ", the problem's is " + std::to_string(d));
  }
  const bool v1 = o_.version == BsvrbVersion::kV1;
  const bool ref = o_.init == BsvrbInit::kReference;
  x_ = x0;
  if (ref) {
    RandomStream rng(ctx_.seed, kReplicatedSlot, 0, Purpose::kInit);
    fill_uniform(rng, x_prev_, d);
    fill_uniform(rng, z_, d);
  } else {
    x_prev_ = x0;
    z_.setZero(d);
  }
  const Placement& pl = p.placement();
  blocks_.assign(static_cast<std::size_t>(pl.local_count()), BlockState{});
  for (Index l = 0; l < pl.local_count(); ++l) {
    const Index i = pl.local_first() + l;
    BlockState& b = blocks_[static_cast<std::size_t>(l)];
    b.y = p.initial_lower(i);
    if (ref) {
      RandomStream rng(ctx_.seed, static_cast<std::uint64_t>(i), 0, Purpose::kInit);
      fill_uniform(rng, b.y_prev, k);
      fill_uniform(rng, b.s, k);
      if (v1) {
        fill_uniform(rng, b.h, k);
        fill_uniform(rng, b.h_prev, k);
      } else {
        fill_uniform(rng, b.v, k);
        fill_uniform(rng, b.v_prev, k);
        fill_uniform(rng, b.u, k);
      }
    } else {
      b.y_prev = b.y;
      b.s.setZero(k);
      if (v1) {
        b.h = Matrix::Identity(k, k) * p.lower_strong_convexity(i);
        project_norm_floor(b.h, o_.hessian_bound);
        b.h_prev = b.h;
      } else {
        b.v.setZero(k);
        b.v_prev.setZero(k);
        b.u.setZero(k);
      }
    }
  }
  h_next_.assign(blocks_.size(), Matrix());
  sampled_local_.assign(blocks_.size(), 0);
}

void Bsvrb::apply_inverse(const Matrix& h, const Vector& rhs, Vector& out) const {
  out = Eigen::PartialPivLU<Matrix>(h).solve(rhs);
}

void Bsvrb::block_update(Index i, BlockState& b, std::int64_t round, Vector& c, IndexedVector& cs) {
  BilevelProblem& p = ctx_.problem;
  sampler_.batch(round, i, batch_);
  const SampleBatch lo = batch_.lower_batch(), up = batch_.upper_batch();
  // ∇_y g_i and (∇_x f_i, ∇_y f_i) at the current and the previous point, on the same rows
  // (∇_x f_i only when the contribution is dense: sparse_ requires f_i independent of x).
  p.lower(i, x_, b.y, lo, nullptr, &gy_new_);
  p.lower(i, x_prev_, b.y_prev, lo, nullptr, &gy_old_);
  p.upper(i, x_, b.y, up, sparse_ ? nullptr : &fx_new_, &fy_new_);
  p.upper(i, x_prev_, b.y_prev, up, sparse_ ? nullptr : &fx_old_, &fy_old_);
  b.counts.gradients += 4;
  const bool v1 = o_.version == BsvrbVersion::kV1;
  if (v1) {
    p.lower_hessian(i, x_, b.y, lo, hess_new_);
    p.lower_hessian(i, x_prev_, b.y_prev, lo, hess_old_);
    b.counts.hessians += 2;
    // G uses H_{i,t} and H_{i,t−1}, before this iteration's update (the reference code).
    apply_inverse(b.h, fy_new_, w_new_);
    apply_inverse(b.h_prev, fy_old_, w_old_);
    Matrix& next = h_next_[static_cast<std::size_t>(p.placement().local_index(i))];
    next = b.h;
    msvr_update(next, o_.alpha, o_.gamma, hess_new_, hess_old_);
    project_norm_floor(next, o_.hessian_bound);
  } else {
    // u_i tracks ∇²_yy g_i v_i − ∇_y f_i, the gradient in v of ½ vᵀ H v − vᵀ ∇_y f.
    p.lower_hvp(i, x_, b.y, lo, b.v, w_new_);
    p.lower_hvp(i, x_prev_, b.y_prev, lo, b.v_prev, w_old_);
    b.counts.hvps += 2;
    w_new_ -= fy_new_;
    w_old_ -= fy_old_;
    msvr_update(b.u, o_.alpha, o_.gamma, w_new_, w_old_);
  }
  // The vector the mixed product multiplies: H_i⁻¹ ∇_y f_i (v1) or v_i (v2), at both points.
  const Vector& a_new = v1 ? w_new_ : b.v;
  const Vector& a_old = v1 ? w_old_ : b.v_prev;
  b.counts.cross += 2;
  msvr_update(b.s, o_.alpha, o_.gamma, gy_new_, gy_old_);
  if (sparse_) {
    p.lower_cross_sparse(i, x_, b.y, lo, a_new, cs_new_);
    p.lower_cross_sparse(i, x_prev_, b.y_prev, lo, a_old, cs_old_);
    combine_sparse(p, cs_new_, cs_old_, 1 - o_.beta, cs);
    return;
  }
  p.lower_cross(i, x_, b.y, lo, a_new, c_new_);
  p.lower_cross(i, x_prev_, b.y_prev, lo, a_old, c_old_);
  // G_new,i − (1−β) G_old,i with G = ∇_x f_i − (mixed product).
  c = (fx_new_ - c_new_) - (1 - o_.beta) * (fx_old_ - c_old_);
}

void Bsvrb::step(std::int64_t round) {
  const double t_start = monotonic_seconds();
  BilevelProblem& p = ctx_.problem;
  const Placement& pl = p.placement();
  const Index d = p.upper_dim();
  const Index first = pl.local_first(), end = pl.end(pl.rank());
  const std::vector<Index>& sampled = sampler_.blocks(round);
  std::fill(sampled_local_.begin(), sampled_local_.end(), 0);
  contributions_.reset(d);
  for (Index i : sampled) {  // increasing block order
    if (i < first || i >= end) continue;
    const auto l = static_cast<std::size_t>(i - first);
    sampled_local_[l] = 1;
    const double t0 = monotonic_seconds();
    block_update(i, blocks_[l], round, contributions_.dense(), contributions_.entries());
    times_.kernels += monotonic_seconds() - t0;
    // Down: x_t and x_{t−1} (on the contribution's coordinates when sparse: those are the x
    // entries the block's oracles read).
    contributions_.add(i, 1.0, 2, 2);
  }
  contributions_.finish(combined_, times_);

  // The lower variables of this rank's blocks.
  const bool v1 = o_.version == BsvrbVersion::kV1;
  const double tau = o_.effective_tau(), tau_v = o_.effective_tau_v();
  for (std::size_t l = 0; l < blocks_.size(); ++l) {
    BlockState& b = blocks_[l];
    const bool hit = sampled_local_[l] != 0;
    if (v1) {
      b.y_prev.swap(b.y);
      b.y = b.y_prev - tau * b.s;  // every block, with its (possibly stale) s_i
      if (hit) {
        b.h_prev.swap(b.h);
        b.h.swap(h_next_[l]);
      } else if (b.delay == 0) {
        b.h_prev = b.h;  // previous = current from now on, until the block is sampled again
      }
    } else if (hit) {
      const double dc = static_cast<double>(b.delay + 1);
      b.y_prev.swap(b.y);
      b.y = b.y_prev - tau * dc * b.s;
      b.v_prev.swap(b.v);
      b.v = b.v_prev - tau_v * dc * b.u;
      project_ball(b.v, o_.v_bound);
    } else if (b.delay == 0) {
      b.y_prev = b.y;
      b.v_prev = b.v;
    }
    b.delay = hit ? 0 : b.delay + 1;
  }

  // STORM on x.
  x_prev_ = x_;
  storm_update(z_, o_.beta, combined_, o_.sampler.blocks_per_iter);
  x_.noalias() -= o_.lr * z_;
  times_.total += monotonic_seconds() - t_start;
}

std::uint64_t Bsvrb::local_grad_evals() const {
  return local_counts().gradients;
}

OracleCounts Bsvrb::local_counts() const {
  return total_counts(blocks_);
}

std::vector<Vector> Bsvrb::local_lower() const {
  std::vector<Vector> y;
  y.reserve(blocks_.size());
  for (const auto& b : blocks_) y.push_back(b.y);
  return y;
}

void Bsvrb::extra_metrics(MetricRow& row) {
  Vector g;
  bilevel_exact_metrics(ctx_.comm, ctx_.reduction, ctx_.problem, o_.solve, x_, local_lower(),
                        counts_of(blocks_), row, &g);
  times_.report(ctx_.comm, row);
  row.set("estimate_error_sq", (z_ - g).squaredNorm());
}

void Bsvrb::save(StateArchive& out) const {
  out.put("bsvrb/x", x_);
  out.put("bsvrb/x_prev", x_prev_);
  out.put("bsvrb/z", z_);
  const Placement& pl = ctx_.problem.placement();
  const bool v1 = o_.version == BsvrbVersion::kV1;
  for (std::size_t l = 0; l < blocks_.size(); ++l) {
    const Index i = pl.local_first() + static_cast<Index>(l);
    const BlockState& b = blocks_[l];
    auto key = [i](const char* name) { return StateArchive::agent_key(i, name); };
    out.put(key("bsvrb/y"), b.y);
    out.put(key("bsvrb/y_prev"), b.y_prev);
    out.put(key("bsvrb/s"), b.s);
    if (v1) {
      out.put(key("bsvrb/H"), flatten(b.h));
      out.put(key("bsvrb/H_prev"), flatten(b.h_prev));
    } else {
      out.put(key("bsvrb/v"), b.v);
      out.put(key("bsvrb/v_prev"), b.v_prev);
      out.put(key("bsvrb/u"), b.u);
    }
    out.put_count(key("bsvrb/delay"), b.delay);
    out.put_u64(key("bsvrb/counts"),
                {b.counts.gradients, b.counts.hvps, b.counts.cross, b.counts.hessians});
  }
}

void Bsvrb::load(const StateArchive& in) {
  const BilevelProblem& p = ctx_.problem;
  const Index d = p.upper_dim(), k = p.lower_dim();
  x_ = get_sized(in, "bsvrb/x", d);
  x_prev_ = get_sized(in, "bsvrb/x_prev", d);
  z_ = get_sized(in, "bsvrb/z", d);
  const Placement& pl = p.placement();
  const bool v1 = o_.version == BsvrbVersion::kV1;
  blocks_.assign(static_cast<std::size_t>(pl.local_count()), BlockState{});
  for (std::size_t l = 0; l < blocks_.size(); ++l) {
    const Index i = pl.local_first() + static_cast<Index>(l);
    BlockState& b = blocks_[l];
    auto key = [i](const char* name) { return StateArchive::agent_key(i, name); };
    b.y = get_sized(in, key("bsvrb/y"), k);
    b.y_prev = get_sized(in, key("bsvrb/y_prev"), k);
    b.s = get_sized(in, key("bsvrb/s"), k);
    if (v1) {
      b.h = unflatten(in.get_vector(key("bsvrb/H")), k, key("bsvrb/H"));
      b.h_prev = unflatten(in.get_vector(key("bsvrb/H_prev")), k, key("bsvrb/H_prev"));
    } else {
      b.v = get_sized(in, key("bsvrb/v"), k);
      b.v_prev = get_sized(in, key("bsvrb/v_prev"), k);
      b.u = get_sized(in, key("bsvrb/u"), k);
    }
    b.delay = in.get_count(key("bsvrb/delay"));
    const auto& c = in.get_u64(key("bsvrb/counts"));
    if (c.size() != 4) throw InputError("checkpoint: bad " + key("bsvrb/counts"));
    b.counts = OracleCounts{c[0], c[1], c[2], c[3]};
  }
  h_next_.assign(blocks_.size(), Matrix());
  sampled_local_.assign(blocks_.size(), 0);
}

}  // namespace distopt
