#pragma once
// FedFix (Fraboni, Vidal, Kameni, Lorenzi, "A General Theory for Federated Optimization with
// Asynchronous and Heterogeneous Clients Updates", JMLR 2023, arXiv 2206.10189; ALGORITHMS.md §1),
// in simulated time (AsyncFederated), as the authors' code runs it (github
// Accenture/Labs-Federated-Learning, FL/clients_schedule.py and FL/server.py):
//   every client works all the time; the server aggregates at the fixed times n Δt
//   (--aggregation-interval Δt), with the updates of the clients that returned in
//   ((n−1)Δt, nΔt]:
//       x^{n} = x^{n−1} + ServerOpt( Σ_{returned i} d_i (y_i − x^{ρ_i}) ),   d_i = ⌈τ_i/Δt⌉ p_i
//   where x^{ρ_i} is the model client i downloaded and τ_i its compute time (K_i / s_i). The
//   returned clients download x^{n} at nΔt and restart; the others keep working on their older
//   model. So client i returns exactly every k_i = ⌈τ_i/Δt⌉ aggregations, and its weight per
//   aggregation averages to d_i / k_i = p_i: the aggregation is unbiased for f = Σ p_i f_i
//   (the paper's condition on the expected aggregation weights), where plain asynchronous
//   averaging (weight p_i at every return) weighs client i by p_i / k_i, towards fast clients.
//   --fedfix-weights uniform gives that biased form (d_i = p_i), for comparison.
// The Δ is not normalised (the sum of the d_i of one aggregation is not 1), as in the authors'
// aggregation; with no returned client the server does not step (a FedOpt optimiser with
// momentum would otherwise move on Δ = 0). One Trainer round is one interval Δt; the version
// counts intervals, so a client's staleness is always k_i − 1.
// With --clock wall Δt is in seconds of the server's wall clock (stopped between rounds) and k_i
// is measured: an arrival's d_i = (τ + 1) p_i, τ its staleness (the aggregations its flight
// spanned), the wall-clock counterpart of ⌈τ_i/Δt⌉. The returned clients restart after the update.
#include "distopt/federated/async_federated.hpp"

namespace distopt {

/// The aggregation weights of FedFix (--fedfix-weights).
enum class FedFixWeights {
  kCeil,    ///< d_i = ⌈τ_i/Δt⌉ p_i (the paper's, unbiased)
  kUniform  ///< d_i = p_i (asynchronous averaging at fixed times, biased towards fast clients)
};

/// FedFix's options.
struct FedFixOptions {
  /// Local schedule, step sizes, server optimiser, client speeds, clock.
  AsyncFederatedOptions async{};
  /// --aggregation-interval: Δt > 0 between aggregations (default 1): units of simulated time
  /// with --clock virtual, seconds with --clock wall.
  double interval = 1.0;
  /// --fedfix-weights (default ceil).
  FedFixWeights weights = FedFixWeights::kCeil;
  /// async.validate(); ConfigError("aggregation-interval", ...) unless 0 < Δt < ∞.
  void validate() const;
};

/// FedFix (above).
class FedFix : public AsyncFederated {
 public:
  /// Validates `options` (ConfigError naming the option) and builds the method.
  FedFix(RunContext& ctx, FedFixOptions options);
  void initialize(const Vector& x0) override;
  void step(std::int64_t round) override;
  /// k_i = ⌈τ_i/Δt⌉ (>= 1) of every client, after initialize().
  const std::vector<std::int64_t>& periods() const { return periods_; }

 protected:
  void wall_start() override;
  double arrival_factor(const InFlight& /*f*/) const override { return 1.0; }
  bool buffer_full() const override { return false; }
  bool wall_ready() const override;
  void server_update() override;
  void on_arrival(const InFlight& f) override { returned_.push_back(f.client); }
  void after_update() override;

 private:
  std::vector<Index> returned_;  // wall clock (rank 0): the clients back since the last update
  FedFixOptions o_;
  std::vector<std::int64_t> periods_;
};

}  // namespace distopt
