#include "distopt/bilevel/bilevel_metrics.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <span>
#include <string>

#include "distopt/core/error.hpp"

namespace distopt {

void bilevel_exact_metrics(Communicator& comm, Reduction reduction, BilevelProblem& problem,
                           const HypergradientSolveOptions& solve, const Vector& x,
                           const std::vector<Vector>& local_y,
                           const std::vector<OracleCounts>& local_counts, MetricRow& row,
                           Vector* grad) {
  const Placement& pl = problem.placement();
  double residual = 0;
  Vector gy;
  const SampleBatch all;
  for (Index l = 0; l < pl.local_count(); ++l) {
    problem.lower(pl.local_first() + l, x, local_y[static_cast<std::size_t>(l)], all, nullptr, &gy);
    residual = std::max(residual, gy.norm());
  }
  comm.allreduce_max(std::span<double>(&residual, 1));
  std::vector<Vector> y = local_y;  // warm starts: copies
  Vector g;
  const double f = exact_hypergradient(comm, reduction, problem, x, y, &g, solve);
  std::vector<std::uint64_t> c(3, 0);
  for (const auto& k : local_counts) {
    c[0] += k.hvps;
    c[1] += k.cross;
    c[2] += k.hessians;
  }
  comm.allreduce_sum(c);
  const double g2 = g.squaredNorm();
  row.set("upper_value", f);
  row.set("hypergrad_norm_sq", g2);
  row.set("loss", f);
  row.set("grad_norm_sq", g2);
  row.set("lower_residual", residual);
  row.set("hvp_evals", static_cast<double>(c[0]));
  row.set("jvp_evals", static_cast<double>(c[1]));
  row.set("hessian_evals", static_cast<double>(c[2]));
  add_lower_metrics(comm, reduction, problem, x, y, "", row);
  add_lower_metrics(comm, reduction, problem, x, local_y, "iterate_", row);
  if (grad) *grad = std::move(g);
}

void add_lower_metrics(Communicator& comm, Reduction reduction, BilevelProblem& problem,
                       const Vector& x, const std::vector<Vector>& local_y,
                       const std::string& prefix, MetricRow& row) {
  const std::vector<std::string> names = problem.lower_metric_names();
  if (names.empty()) return;
  const Placement& pl = problem.placement();
  const auto k = static_cast<Index>(names.size());
  AgentSum sum(comm, reduction);
  sum.reset(k);
  std::vector<double> values;
  for (Index l = 0; l < pl.local_count(); ++l) {
    const Index i = pl.local_first() + l;
    problem.evaluate_lower(i, x, local_y[static_cast<std::size_t>(l)], values);
    if (static_cast<Index>(values.size()) != k) {
      throw Error("bilevel problem '" + problem.name() + "': evaluate_lower returned " +
                  std::to_string(values.size()) + " values for " + std::to_string(k) + " names");
    }
    sum.add(i, Eigen::Map<const Vector>(values.data(), k), 1.0 / static_cast<double>(pl.agents()));
  }
  Vector mean;
  sum.finish(mean);
  for (Index j = 0; j < k; ++j) row.set(prefix + names[static_cast<std::size_t>(j)], mean[j]);
}

void PhaseTimes::report(Communicator& comm, MetricRow& row) const {
  std::array<double, 3> t = {kernels, aggregation, total};
  comm.allreduce_sum(std::span<double>(t));
  const double n = comm.size();
  row.set("time_block_kernels", t[0] / n);
  row.set("time_aggregation", t[1] / n);
  row.set("time_steps", t[2] / n);
}

double monotonic_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void check_bilevel_placement(const Communicator& comm, const BilevelProblem& problem,
                             const char* who) {
  const Placement& pl = problem.placement();
  if (pl.ranks() != comm.size() || pl.rank() != comm.rank()) {
    throw Error(std::string(who) + ": the problem's placement is over " +
                std::to_string(pl.ranks()) + " ranks, the communicator has " +
                std::to_string(comm.size()));
  }
}

}  // namespace distopt
