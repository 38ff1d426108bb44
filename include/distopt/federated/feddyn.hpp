#pragma once
// FedDyn (Acar et al., arXiv 2111.04263; ALGORITHMS.md §1), with α > 0 (FedDynOptions::alpha,
// --feddyn-alpha).
// Client i minimises f_i(y) − ⟨h_i, y⟩ + (α/2)‖y − x^t‖² by local steps:
//   local direction   d = ∇f_i(y; ξ) − h_i + α (y − x^t)
//   after training    h_i ← h_i − α (y_i − x^t)      (so h_i tracks ∇f_i at the local solution)
//   server            h ← h − α Σ_{i∈S} p_i (y_i − x^t)        (h = Σ_i p_i h_i over ALL clients;
//                                                              uniform p: h − (α/N) Σ_S (y_i −
//                                                              x^t))
//                     x^{t+1} = Σ_{i∈S} p̃_i y_i − h/α
// Sign convention (derived once, tested on quadratics): at a fixed point y_i = x, h_i = ∇f_i(x)
// and h = Σ p_i ∇f_i(x) = 0, so x minimises f = Σ p_i f_i.
// The pseudo-gradient handed to the server optimiser is Δ = x^{t+1} − x^t = U − h/α, with
// U = Σ_S p̃_i (y_i − x^t); with sgd and --lr-global 1 (default) this is the paper's update.
#include "distopt/federated/client_states.hpp"
#include "distopt/federated/federated_round.hpp"

namespace distopt {

/// FedDyn's options: the round's and the dynamic regulariser.
struct FedDynOptions {
  /// The federated round (sampling, local schedule, step sizes, server, links).
  FederatedOptions federated{};
  /// --feddyn-alpha: dynamic regulariser α > 0 (default 0.1).
  double alpha = 0.1;
  /// federated.validate(), then ConfigError("feddyn-alpha", ...) unless α > 0.
  void validate() const;
};

/// FedDyn: local dynamic regularisation with per-client h_i and the server's h.
class FedDyn : public FederatedRound {
 public:
  /// Validates `options` (ConfigError naming the option) and builds the method.
  FedDyn(RunContext& ctx, FedDynOptions options);
  /// The server's h = Σ_i p_i h_i (replicated).
  const Vector& server_h() const { return h_; }

 protected:
  void initialize_method(Index dim) override;
  int direction(Index client, const Vector& y, const DataBlock& batch, Vector& d) override;
  void finish_client(const LocalRun& run, Vector& up) override;
  void server_delta(const Vector& aggregate, double mass, Vector& delta) override;
  void save_method(StateArchive& out) const override;
  void load_method(const StateArchive& in) override;

 private:
  double alpha_;
  Vector h_;
  ClientStates hi_states_;
};

}  // namespace distopt
