#pragma once
// Synchronous decentralized gradient descent (--algorithm gossip), the baseline of DADAO
// (ALGORITHMS.md §3): every round each node takes a local gradient step on F_i = n p_i f_i and
// then Q rounds of Metropolis gossip with its neighbours (--gossip-steps Q; Q > 1 is the
// multiple-gossip-steps variant of DFedSAM-MGS, arXiv 2302.04083):
//   x_i ← x_i − γ ∇F_i(x_i);  then Q times  x_i ← w_ii x_i + Σ_{j~i} w_ij x_j.
// With a constant step the nodes converge to a neighbourhood of x* whose size shrinks with γ and
// with Q (decentralized GD is biased on heterogeneous data): the benchmarks report that floor.
// Counters: one gradient event per node per round, |E| communication events (edge activations,
// one d-vector each way) per gossip step. The gossip step is topology/gossip_mixer.hpp's (shared
// with decentralized federated learning): node mixing sums neighbours in incident-edge order, so
// runs are bitwise identical at any number of ranks.
#include <cstdint>
#include <optional>

#include "distopt/gossip/gossip_problem.hpp"
#include "distopt/method/algorithm.hpp"
#include "distopt/topology/gossip_mixer.hpp"

namespace distopt {

/// Typed options of synchronous gossip (Ceres style: defaults are the command line's).
struct SyncGossipOptions {
  /// --graph, --grad-cost, --slow-rank.
  GossipOptions gossip;
  /// --gossip-steps: Metropolis gossip steps per round Q (>= 1).
  std::int64_t gossip_steps = 1;
  /// --lr: the step size γ (> 0); none ("theory"): 1/L with L the largest smoothness constant of
  /// the nodes' functions.
  std::optional<double> lr = 0.1;
  /// Throws ConfigError naming the option ("gossip-steps", "lr", and those of GossipOptions).
  void validate() const;
};

/// Synchronous decentralized gradient descent with Metropolis gossip (see above).
class SyncGossip : public Algorithm {
 public:
  /// Collective. Validates `options`; throws ConfigError naming the option.
  SyncGossip(RunContext& ctx, SyncGossipOptions options);
  std::string name() const override { return "gossip"; }
  void initialize(const Vector& x0) override;
  void step(std::int64_t round) override;
  const Vector& model() const override;
  std::uint64_t local_grad_evals() const override { return problem_.local_gradients(); }
  void extra_metrics(MetricRow& row) override;
  void save(StateArchive& out) const override;
  void load(const StateArchive& in) override;
  void final_outputs(std::map<std::string, RowMatrix>& out) override;

  const GossipProblem& problem() const { return problem_; }  ///< graph, nodes' functions
  double step_size() const { return lr_; }  ///< γ as resolved (--lr, or 1/L for theory)
  /// x* of the centralised solve at initialisation (solve_optimum), for dist_to_opt.
  const Vector& x_star() const { return x_star_; }
  /// This rank's nodes' models, one row per local node in node order.
  const RowMatrix& local_models() const { return X_; }
  /// Every node's model, n x d (collective: gathered, cached until the next step).
  const RowMatrix& node_models() const;

 private:
  RunContext& ctx_;
  GossipProblem problem_;
  std::int64_t steps_;
  double lr_;
  GossipMixer mixer_;  // Metropolis W; counts the edge activations whose lower end is local
  RowMatrix X_;        // local nodes' models
  Vector x_star_, g_;
  std::int64_t rounds_ = 0;
  mutable std::optional<RowMatrix> models_;
  mutable Vector mean_;
};

}  // namespace distopt
