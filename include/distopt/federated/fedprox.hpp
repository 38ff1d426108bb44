#pragma once
// FedProx (Li et al., arXiv 1812.06127; ALGORITHMS.md §1): the local direction adds the proximal
// term of ½μ‖y − x^t‖²: d = ∇f_i(y; ξ) + μ (y − x^t) (FedProxOptions::mu, --prox-mu, μ ≥ 0; μ = 0
// is FedAvg). Server as FedAvg. On quadratics with K full-batch steps, with B_i = A_i + μI and
// N_i = (I − η_l B_i)^K, the fixed point solves Σ p_i (I − N_i) B_i⁻¹ A_i (b_i − x) = 0.
#include "distopt/federated/federated_round.hpp"

namespace distopt {

/// FedProx's options: the round's and the proximal coefficient.
struct FedProxOptions {
  /// The federated round (sampling, local schedule, step sizes, server, links).
  FederatedOptions federated{};
  /// --prox-mu: proximal coefficient μ >= 0 (default 0.01; 0 is FedAvg).
  double mu = 0.01;
  /// federated.validate(), then ConfigError("prox-mu", ...) unless μ >= 0.
  void validate() const;
};

/// FedProx: FedAvg's round with the proximal term μ (y − x^t) in the local direction.
class FedProx : public FederatedRound {
 public:
  /// Validates `options` (ConfigError naming the option) and builds the method.
  FedProx(RunContext& ctx, FedProxOptions options);

 protected:
  int direction(Index client, const Vector& y, const DataBlock& batch, Vector& d) override;

 private:
  double mu_;
};

}  // namespace distopt
