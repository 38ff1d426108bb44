#pragma once
// Spectral quantities of a communication graph (ALGORITHMS.md §3; Nabli & Oyallon, ICML 2023,
// arXiv 2208.00779, as the reference code utils.compute_spectral_quantities computes them):
//   Λ  = Laplacian / |E|        (every edge weighted by its share 1/|E| of the communication events)
//   χ1 = 1 / λ_min⁺(Λ) = |E| / λ2(Laplacian)
//   χ2 = max_{(i,j)∈E} ½ (e_i − e_j)ᵀ Λ⁺ (e_i − e_j) = ½ |E| max_{(i,j)∈E} R_ij,
//        R_ij the effective resistance of edge (i,j) with unit resistors (χ2 ≤ χ1).
// Dense eigendecomposition (Eigen SelfAdjointEigenSolver): meant for n up to a few thousand.
#include "distopt/core/types.hpp"
#include "distopt/topology/graph.hpp"

namespace distopt {

/// The spectral quantities above, for one graph.
struct GraphSpectrum {
  Vector laplacian_eigenvalues;       ///< of the combinatorial Laplacian D − A, ascending
  double algebraic_connectivity = 0;  ///< λ2 of D − A (0 if disconnected)
  double chi1 = 0;                    ///< χ1 = |E| / λ2(D − A) (0 for a single node)
  double chi2 = 0;                    ///< χ2 = ½ |E| max_resistance (0 for a single node)
  double max_resistance = 0;          ///< max over edges of R_ij (unit resistors)
  /// Metropolis gossip matrix W: 1 − max(|λ2(W)|, |λn(W)|), the rate of synchronous gossip.
  double metropolis_gap = 0;
};

/// The spectral quantities of `g` (dense eigendecompositions of D − A and of the Metropolis W).
/// Throws InputError if the graph is not connected (χ1 is then infinite).
GraphSpectrum compute_spectrum(const Graph& g);

}  // namespace distopt
