#pragma once
// One synchronous gossip step x_i ← w_ii x_i + Σ_{j~i} w_ij x_j with the Metropolis weights of a
// graph (metropolis.hpp), over the nodes a Placement puts on this rank: the mixing step of the
// synchronous decentralized methods (decentralized federated learning, DFedAvg/DFedSAM(-MGS);
// it is the same step as the gossip family's synchronous baseline, --algorithm gossip).
//
// Exchange: for every edge with one end local and the other remote, this rank posts a receive and
// a send of the local end's d-vector on the edge's tag (NeighborExchange::edge_tag), then waits for
// all of them; edges with both ends local are read in memory. Each node sums its neighbours in
// increasing incident-edge order after its own term, so a step has the same bits at any rank count.
//
// Traffic (into the channel's parent communicator): every directed edge i→j moves node i's model
// once per step, d values of sizeof(double) bytes, counted as one peer message of agent i — through
// MPI when j is remote (also physical bytes), in memory otherwise (count_in_memory). So each step
// adds exactly deg(i) · d · 8 logical bytes to agent i, and 2|E| · d · 8 over all agents.
#include <cstdint>
#include <utility>
#include <vector>

#include "distopt/comm/neighbor_exchange.hpp"
#include "distopt/comm/placement.hpp"
#include "distopt/core/types.hpp"
#include "distopt/topology/graph.hpp"
#include "distopt/topology/metropolis.hpp"

namespace distopt {

/// The Metropolis gossip step over a graph, for this rank's nodes (see the file comment).
class GossipMixer {
 public:
  /// A mixer over `graph` (copied) with its nodes placed by `placement`, exchanging on `channel`
  /// (which must outlive the mixer). Not collective. Error if the graph's node count is not the
  /// placement's agent count.
  GossipMixer(const Graph& graph, const Placement& placement, NeighborExchange& channel);

  /// One gossip step on X, this rank's nodes' vectors (one row per local node, in node order):
  /// X ← (W X) restricted to the local rows. Collective over the channel's ranks (every rank must
  /// call it the same number of times with the same column count).
  void mix(RowMatrix& X);

  /// The weights W (per edge and per node).
  const MetropolisWeights& weights() const { return w_; }
  /// The graph mixed over.
  const Graph& graph() const { return graph_; }
  /// Edge activations so far that this rank counts: edges whose lower end is local, per step.
  std::uint64_t edge_activations() const { return activations_; }
  /// Edges whose lower end is local: the activations one step adds on this rank.
  std::uint64_t local_lower_edges() const { return lower_edges_; }
  /// Restores the activation count (checkpoints): `steps` steps done.
  void restore_steps(std::uint64_t steps) { activations_ = steps * lower_edges_; }

 private:
  Graph graph_;
  Placement placement_;
  NeighborExchange& channel_;
  MetropolisWeights w_;
  std::vector<std::pair<Index, Index>> remote_;  // (edge, local node) whose other end is remote
  std::vector<Index> slot_;                      // per edge: row of recv_ (remote edges), or -1
  RowMatrix recv_, next_;
  std::uint64_t lower_edges_ = 0;
  std::uint64_t activations_ = 0;
};

}  // namespace distopt
