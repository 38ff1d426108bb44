#include "distopt/bilevel/exact_hypergradient_descent.hpp"

#include <limits>

#include "distopt/bilevel/bilevel_metrics.hpp"
#include "distopt/core/check.hpp"
#include "distopt/core/error.hpp"
#include "distopt/io/metrics.hpp"
#include "distopt/method/state_archive.hpp"

namespace distopt {

void ExactHypergradOptions::validate() const {
  check::positive("lr", lr);
  solve.validate();
}

ExactHypergradientDescent::ExactHypergradientDescent(BilevelContext ctx,
                                                     const ExactHypergradOptions& options)
    : ctx_(ctx),
      o_(options),
      last_value_(std::numeric_limits<double>::quiet_NaN()),
      last_grad_norm_sq_(std::numeric_limits<double>::quiet_NaN()) {
  o_.validate();
  validate_bilevel_problem(ctx_.problem);
  const Placement& pl = ctx_.problem.placement();
  if (pl.ranks() != ctx_.comm.size() || pl.rank() != ctx_.comm.rank()) {
    throw Error("ExactHypergradientDescent: the problem's placement is over " +
                std::to_string(pl.ranks()) + " ranks, the communicator has " +
                std::to_string(ctx_.comm.size()));
  }
  if (o_.solve.solver == LinearSolver::kCholesky && !ctx_.problem.has_lower_hessian()) {
    throw ConfigError("bilevel-solver",
                      "cholesky needs the lower Hessian, which bilevel problem '" +
                          ctx_.problem.name() + "' does not form");
  }
}

void ExactHypergradientDescent::initialize(const Vector& x0) {
  if (x0.size() != ctx_.problem.upper_dim()) {
    throw Error("ExactHypergradientDescent: initial x of dimension " + std::to_string(x0.size()) +
                ", the problem's is " + std::to_string(ctx_.problem.upper_dim()));
  }
  x_ = x0;
  const Placement& pl = ctx_.problem.placement();
  y_.clear();
  counts_.assign(static_cast<std::size_t>(pl.local_count()), OracleCounts{});
  for (Index l = 0; l < pl.local_count(); ++l) {
    y_.push_back(ctx_.problem.initial_lower(pl.local_first() + l));
  }
}

void ExactHypergradientDescent::step(std::int64_t /*round*/) {
  // The blocks one at a time, so each block's oracle calls are counted with the block.
  const Placement& pl = ctx_.problem.placement();
  const Index d = ctx_.problem.upper_dim();
  AgentSum sum(ctx_.comm, ctx_.reduction);
  sum.reset(1 + d);
  Vector rec(1 + d), g;
  const double w = 1.0 / static_cast<double>(ctx_.problem.blocks());
  for (Index l = 0; l < pl.local_count(); ++l) {
    const Index i = pl.local_first() + l;
    HypergradientStats st;
    rec[0] = block_hypergradient(ctx_.problem, i, x_, y_[static_cast<std::size_t>(l)], &g, o_.solve,
                                 &st);
    rec.tail(d) = g;
    counts_[static_cast<std::size_t>(l)] += st.counts;
    sum.add(i, rec, w);
    // Logical traffic: the block's value and hypergradient up, x down.
    ctx_.comm.traffic().add_up(i, static_cast<std::uint64_t>(1 + d) * sizeof(double));
    ctx_.comm.traffic().add_down(i, static_cast<std::uint64_t>(d) * sizeof(double));
  }
  Vector total;
  sum.finish(total);
  grad_ = total.tail(d);
  last_value_ = total[0];
  last_grad_norm_sq_ = grad_.squaredNorm();
  x_.noalias() -= o_.lr * grad_;
}

std::uint64_t ExactHypergradientDescent::local_grad_evals() const {
  std::uint64_t n = 0;
  for (const auto& c : counts_) n += c.gradients;
  return n;
}

double ExactHypergradientDescent::evaluate(Vector* grad) {
  std::vector<Vector> y = y_;  // copies: evaluation must not move the warm starts
  return exact_hypergradient(ctx_.comm, ctx_.reduction, ctx_.problem, x_, y, grad, o_.solve);
}

void ExactHypergradientDescent::extra_metrics(MetricRow& row) {
  std::vector<Vector> y = y_;
  Vector g;
  HypergradientStats st;
  const double f =
      exact_hypergradient(ctx_.comm, ctx_.reduction, ctx_.problem, x_, y, &g, o_.solve, &st);
  double residual = st.lower_grad_norm;
  ctx_.comm.allreduce_max(std::span<double>(&residual, 1));
  std::vector<std::uint64_t> c(3, 0);
  for (const auto& k : counts_) {
    c[0] += k.hvps;
    c[1] += k.cross;
    c[2] += k.hessians;
  }
  ctx_.comm.allreduce_sum(c);
  row.set("loss", f);
  row.set("grad_norm_sq", g.squaredNorm());
  row.set("upper_value", f);
  row.set("hypergrad_norm_sq", g.squaredNorm());
  row.set("lower_residual", residual);
  row.set("hvp_evals", static_cast<double>(c[0]));
  row.set("jvp_evals", static_cast<double>(c[1]));
  row.set("hessian_evals", static_cast<double>(c[2]));
  add_lower_metrics(ctx_.comm, ctx_.reduction, ctx_.problem, x_, y, "", row);
}

void ExactHypergradientDescent::save(StateArchive& out) const {
  out.put("bilevel/x", x_);
  const Placement& pl = ctx_.problem.placement();
  for (Index l = 0; l < pl.local_count(); ++l) {
    const Index i = pl.local_first() + l;
    const auto& c = counts_[static_cast<std::size_t>(l)];
    out.put(StateArchive::agent_key(i, "bilevel/y"), y_[static_cast<std::size_t>(l)]);
    out.put_u64(StateArchive::agent_key(i, "bilevel/counts"),
                {c.gradients, c.hvps, c.cross, c.hessians});
  }
}

void ExactHypergradientDescent::load(const StateArchive& in) {
  x_ = in.get_vector("bilevel/x");
  if (x_.size() != ctx_.problem.upper_dim()) {
    throw InputError("checkpoint: bilevel/x has dimension " + std::to_string(x_.size()) +
                     ", the problem's is " + std::to_string(ctx_.problem.upper_dim()));
  }
  const Placement& pl = ctx_.problem.placement();
  y_.assign(static_cast<std::size_t>(pl.local_count()), Vector());
  counts_.assign(static_cast<std::size_t>(pl.local_count()), OracleCounts{});
  for (Index l = 0; l < pl.local_count(); ++l) {
    const Index i = pl.local_first() + l;
    Vector y = in.get_vector(StateArchive::agent_key(i, "bilevel/y"));
    if (y.size() != ctx_.problem.lower_dim()) {
      throw InputError("checkpoint: " + StateArchive::agent_key(i, "bilevel/y") +
                       " has the wrong dimension");
    }
    y_[static_cast<std::size_t>(l)] = std::move(y);
    const auto& c = in.get_u64(StateArchive::agent_key(i, "bilevel/counts"));
    if (c.size() != 4)
      throw InputError("checkpoint: bad " + StateArchive::agent_key(i, "bilevel/counts"));
    counts_[static_cast<std::size_t>(l)] = OracleCounts{c[0], c[1], c[2], c[3]};
  }
}

void ExactHypergradientDescent::final_outputs(std::map<std::string, RowMatrix>& out) {
  // The blocks are placed contiguously in rank order, so the rank-order gather is block order.
  const Index k = ctx_.problem.lower_dim();
  std::vector<double> mine;
  mine.reserve(y_.size() * static_cast<std::size_t>(k));
  for (const auto& y : y_) mine.insert(mine.end(), y.data(), y.data() + y.size());
  const auto all = ctx_.comm.gatherv(std::span<const double>(mine), 0);
  if (!ctx_.comm.is_root()) return;
  const Index m = ctx_.problem.blocks();
  if (static_cast<Index>(all.size()) != m * k) {
    throw Error("ExactHypergradientDescent: gathered " + std::to_string(all.size()) +
                " lower values, expected " + std::to_string(m * k));
  }
  out["lower"] = Eigen::Map<const RowMatrix>(all.data(), m, k);
}

}  // namespace distopt
