#include "distopt/gossip/gossip_problem.hpp"

#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>

#include "distopt/comm/agent_sum.hpp"
#include "distopt/core/error.hpp"
#include "distopt/data/local_data.hpp"
#include "distopt/model/objective.hpp"
#include "distopt/topology/graph_spec.hpp"

namespace distopt {

void GossipOptions::validate() const {
  cost.validate();
}

GossipProblem::GossipProblem(RunContext& ctx, const GossipOptions& options)
    : ctx_(ctx),
      graph_(make_graph(options.graph, ctx.placement.agents(), ctx.seed)),
      spectrum_(compute_spectrum(graph_)),
      cost_(options.cost, ctx.comm.rank(), ctx.comm.size()),
      exchange_(ctx.comm) {
  const Index n = graph_.nodes();
  if (static_cast<Index>(ctx.agent_weights.size()) != n) {
    throw Error("GossipProblem: agent_weights has " + std::to_string(ctx.agent_weights.size()) +
                " entries for " + std::to_string(n) + " nodes");
  }
  double Lmax = 0, mumin = std::numeric_limits<double>::infinity();
  // Σ_a L_a and Σ_a μ_a follow --reduction (agent order with ordered), so x* (solved with these
  // constants) and every metric against it have the same bits at any rank count.
  AgentSum sums(ctx.comm, ctx.reduction);
  sums.reset(2);
  Vector la_ma(2);
  for (Index a = local_first(); a < local_first() + local_count(); ++a) {
    const DataBlock shard = ctx.data.shard(a);
    std::vector<Index> rows(static_cast<std::size_t>(shard.rows()));
    std::iota(rows.begin(), rows.end(), shard.begin());
    rows_.push_back(shard.dataset().select(rows));
    const double s = static_cast<double>(n) * ctx.agent_weights[static_cast<std::size_t>(a)];
    scale_.push_back(s);
    const double La = s * ctx.objective.smoothness(rows_.back().all());
    const double ma = s * ctx.objective.strong_convexity(rows_.back().all());
    Lmax = std::max(Lmax, La);
    mumin = std::min(mumin, ma);
    la_ma << La, ma;
    sums.add(a, la_ma);
  }
  L_ = ctx.comm.allreduce_max(Lmax);
  mu_ = ctx.comm.allreduce_min(mumin);
  Vector total;
  sums.finish(total);
  L_mean_ = total[0] / static_cast<double>(n);
  mu_mean_ = total[1] / static_cast<double>(n);
  if (!std::isfinite(L_)) {
    throw ConfigError("problem", "gossip methods need a model with a known smoothness constant (convex models)");
  }
}

void GossipProblem::gradient(Index node, const Vector& x, Vector& g) {
  const auto k = static_cast<std::size_t>(node - local_first());
  const auto t0 = std::chrono::steady_clock::now();
  ctx_.objective.loss_grad(x, rows_[k].all(), g);
  g *= scale_[k];
  ++grads_;
  if (cost_.active()) {
    cost_.after_gradient(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
}

RowMatrix gather_nodes(Communicator& comm, const Placement& placement, const RowMatrix& local) {
  const Index n = placement.agents();
  const Index d = local.cols();
  std::vector<int> counts(static_cast<std::size_t>(comm.size()));
  for (int r = 0; r < comm.size(); ++r) {
    const Index c = placement.count(r) * d;
    if (c > std::numeric_limits<int>::max())
      throw Error("gather_nodes: more than 2^31 values on a rank");
    counts[static_cast<std::size_t>(r)] = static_cast<int>(c);
  }
  const auto all =
      comm.allgatherv(std::span<const double>(local.data(), static_cast<std::size_t>(local.size())),
                      std::span<const int>(counts));
  if (static_cast<Index>(all.size()) != n * d) throw Error("gather_nodes: wrong total size");
  RowMatrix X(n, d);
  std::copy(all.begin(), all.end(), X.data());
  return X;
}

NodeSummary NodeSummary::of(const RowMatrix& X, const Vector& x_star) {
  NodeSummary s;
  const Index n = X.rows();
  s.mean = Vector::Zero(X.cols());
  for (Index i = 0; i < n; ++i) s.mean += X.row(i).transpose();
  s.mean /= static_cast<double>(n);
  for (Index i = 0; i < n; ++i) {
    s.dist_to_opt += (X.row(i).transpose() - x_star).squaredNorm();
    s.consensus += (X.row(i).transpose() - s.mean).squaredNorm();
  }
  s.dist_to_opt /= static_cast<double>(n);
  s.consensus /= static_cast<double>(n);
  return s;
}

}  // namespace distopt
