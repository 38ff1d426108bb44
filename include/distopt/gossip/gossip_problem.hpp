#pragma once
// What every gossip method shares: the graph (--graph), its spectrum, and the nodes' local
// functions. The framework's objective is f = Σ_a p_a f_a (agent weights p_a, Σ p_a = 1; the
// Evaluator reports it); decentralized methods minimise Σ_i F_i with F_i = n p_i f_i, which has
// the same minimiser and F_i = f_i for uniform weights. Each local node keeps its own copy of its
// rows, so its gradient is computed on identically laid-out memory whatever the rank count (a
// shard's offset inside a rank's buffer changes the alignment Eigen sees, and with it the bits).
#include <memory>
#include <string>
#include <vector>

#include "distopt/comm/neighbor_exchange.hpp"
#include "distopt/data/dataset.hpp"
#include "distopt/core/straggler.hpp"
#include "distopt/method/algorithm.hpp"
#include "distopt/topology/graph.hpp"
#include "distopt/topology/spectrum.hpp"

namespace distopt {

/// What every gossip method is configured with (Ceres style: defaults are the command line's).
struct GossipOptions {
  /// --graph: the gossip network over the agents: `ring|path|star|complete[:<n>]`,
  /// `grid:<r>x<c>`, `torus:<r>x<c>`, `hypercube:<dim>`, `er:<n>:<p>`, `geometric:<n>:<radius>`,
  /// `file:<edge list>`; n must equal the number of agents (checked when the graph is built);
  /// default ring.
  std::string graph = "ring";
  /// --grad-cost, --slow-rank: simulated gradient cost.
  GradientCostOptions cost;
  /// Throws ConfigError naming the option ("grad-cost", "slow-rank"); the graph spec is checked
  /// against the agent count when the graph is built (ConfigError "graph").
  void validate() const;
};

/// The graph, its spectrum and the local nodes' functions F_i = n p_i f_i of a gossip run.
class GossipProblem {
 public:
  /// Collective (agrees L and μ over ranks; duplicates ctx.comm for the neighbour exchanges).
  /// Builds the graph, then the gradient cost; throws ConfigError naming the option.
  GossipProblem(RunContext& ctx, const GossipOptions& options);

  RunContext& ctx() const { return ctx_; }                            ///< the run
  const Graph& graph() const { return graph_; }                       ///< the --graph network
  const GraphSpectrum& spectrum() const { return spectrum_; }         ///< χ1, χ2 of the graph
  Index nodes() const { return graph_.nodes(); }                      ///< n, one node per agent
  Index local_first() const { return ctx_.placement.local_first(); }  ///< this rank's first node
  Index local_count() const { return ctx_.placement.local_count(); }  ///< this rank's node count
  bool is_local(Index node) const { return ctx_.placement.is_local(node); }  ///< on this rank?
  int owner(Index node) const { return ctx_.placement.owner(node); }  ///< the rank holding node

  /// g = ∇F_i(x) for a local node i (counts one gradient event; applies the simulated cost).
  void gradient(Index node, const Vector& x, Vector& g);
  /// Largest smoothness and smallest strong-convexity constant of the F_i over all nodes.
  double L() const { return L_; }
  double mu() const { return mu_; }  ///< smallest strong-convexity constant of the F_i
  /// Smoothness / strong convexity of f = (1/n) Σ F_i (bounds: means of the nodes' constants).
  double L_mean() const { return L_mean_; }
  double mu_mean() const { return mu_mean_; }  ///< mean of the nodes' strong-convexity constants
  std::uint64_t local_gradients() const { return grads_; }  ///< gradients of this rank's nodes
  /// The simulated gradient cost (--grad-cost, --slow-rank).
  const GradientCost& cost() const { return cost_; }
  void restore_gradients(std::uint64_t g) { grads_ = g; }  ///< checkpoint restore of the count
  /// The channel of the nodes' point-to-point messages (its own communicator; traffic counted
  /// into ctx().comm.traffic()).
  NeighborExchange& exchange() { return exchange_; }

 private:
  RunContext& ctx_;
  Graph graph_;
  GraphSpectrum spectrum_;
  std::vector<Dataset> rows_;   // per local node
  std::vector<double> scale_;   // n p_i
  double L_ = 0, mu_ = 0, L_mean_ = 0, mu_mean_ = 0;
  std::uint64_t grads_ = 0;
  GradientCost cost_;
  NeighborExchange exchange_;
};

/// Every node's vector (local rows of `local`, node order) gathered on every rank: n x d, in node
/// order, bitwise identical at any rank count (placement is contiguous). Collective; one
/// MPI_Allgatherv whose counts come from the placement (no count exchange).
RowMatrix gather_nodes(Communicator& comm, const Placement& placement, const RowMatrix& local);

/// Metrics of a set of node models: x̄, (1/n) Σ‖x_i − x*‖², (1/n) Σ‖x_i − x̄‖².
struct NodeSummary {
  Vector mean;             ///< x̄ = (1/n) Σ x_i
  double dist_to_opt = 0;  ///< (1/n) Σ‖x_i − x*‖²
  double consensus = 0;    ///< (1/n) Σ‖x_i − x̄‖²
  /// The summary of the n rows of X (node models) against x_star.
  static NodeSummary of(const RowMatrix& X, const Vector& x_star);
};

}  // namespace distopt
