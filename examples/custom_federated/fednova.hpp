#pragma once
// A user federated method on the FederatedRound base class: FedNova, normalised averaging
// (Wang, Liu, Liang, Joshi, Poor, "Tackling the Objective Inconsistency Problem in Heterogeneous
// Federated Optimization", NeurIPS 2020, arXiv 2007.07481, with plain local SGD, a_i = 1).
//
// Clients run different numbers of local steps τ_i (with local epochs, τ_i = E⌈n_i/B⌉ grows with
// the client's data), and FedAvg's Σ p̃_i (y_i − x) then over-weights the clients that stepped
// most: it converges to a stationary point of a different objective, Σ p_i τ_i f_i / Σ p_j τ_j.
// FedNova averages the normalised updates d_i = (y_i − x)/τ_i instead and rescales by
// τ_eff = Σ_{i∈S} p̃_i τ_i:   Δ = τ_eff Σ_{i∈S} p̃_i d_i,   x⁺ = x + η_g Δ (server optimiser).
#include <utility>

#include "distopt/data/local_data.hpp"
#include "distopt/federated/federated_round.hpp"

namespace user {

class FedNova final : public distopt::FederatedRound {
 public:
  FedNova(distopt::RunContext& ctx, distopt::FederatedOptions options)
      : FederatedRound(ctx, "fednova", options), schedule_(options.schedule, ctx.seed) {}

 protected:
  // Local SGD, as FedAvg: d = ∇f_i(y; ξ).
  int direction(distopt::Index, const distopt::Vector& y, const distopt::DataBlock& batch,
                distopt::Vector& d) override {
    gradient(y, batch, d);
    return 1;
  }
  // Upload the normalised update d_i = (y_i − x)/τ_i.
  void finish_client(const distopt::LocalRun& run, distopt::Vector& up) override {
    up = (*run.y - *run.x) / static_cast<double>(run.steps);
  }
  // U = Σ p̃_i d_i arrives identically on every rank; τ_eff from the clients' row counts.
  void server_delta(const distopt::Vector& aggregate, double mass,
                    distopt::Vector& delta) override {
    double tau_eff = 0;
    for (distopt::Index i : last_active()) {
      const auto n_i = ctx_.data.agent_rows[static_cast<std::size_t>(i)];
      tau_eff += ctx_.agent_weights[static_cast<std::size_t>(i)] / mass *
                 static_cast<double>(schedule_.steps_for(n_i));
    }
    delta = tau_eff * aggregate;
  }

 private:
  distopt::LocalSolver schedule_;  // only for steps_for(n): the τ_i of a client with n rows
};

}  // namespace user
