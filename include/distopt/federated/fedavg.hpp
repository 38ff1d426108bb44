#pragma once
// FedAvg (McMahan et al., arXiv 1602.05629; ALGORITHMS.md §1): local SGD y ← y − η_l ∇f_i(y; ξ),
// server x ← x + η_g Σ_{i∈S} p̃_i (y_i − x) (or a FedOpt server optimiser on that Δ).
// With K > 1 local full-batch steps on heterogeneous quadratics its fixed point is biased:
// x* = [Σ p_i (I − M_i)]⁻¹ Σ p_i (I − M_i) b_i with M_i = (I − η_l A_i)^K.
#include <utility>

#include "distopt/federated/federated_round.hpp"

namespace distopt {

/// FedAvg / FedOpt: plain local SGD; the server optimiser of `options.server` steps from Δ.
class FedAvg : public FederatedRound {
 public:
  /// Validates `options` (ConfigError naming the option) and builds the method.
  FedAvg(RunContext& ctx, FederatedOptions options)
      : FederatedRound(ctx, "fedavg", std::move(options)) {}

 protected:
  int direction(Index client, const Vector& y, const DataBlock& batch, Vector& d) override;
};

}  // namespace distopt
