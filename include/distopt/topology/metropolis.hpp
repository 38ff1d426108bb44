#pragma once
// Metropolis–Hastings gossip weights (Xiao & Boyd 2004): w_ij = 1 / (1 + max(d_i, d_j)) on every
// edge, w_ii = 1 − Σ_j w_ij. W is symmetric and doubly stochastic, with positive diagonal, so
// gossip x ← W x converges to the average on any connected graph.
#include <vector>

#include "distopt/core/types.hpp"
#include "distopt/topology/graph.hpp"

namespace distopt {

/// The nonzero entries of W: off-diagonal ones per edge, diagonal ones per node.
struct MetropolisWeights {
  std::vector<double> edge;  ///< w_ij = 1 / (1 + max(d_i, d_j)), per edge id
  std::vector<double> self;  ///< w_ii = 1 − Σ_j w_ij, per node (summed in incident-edge order)
};

/// The Metropolis–Hastings weights of `g`; the same bits on every rank.
MetropolisWeights metropolis_weights(const Graph& g);
/// The dense n x n matrix W.
Matrix metropolis_matrix(const Graph& g);

}  // namespace distopt
