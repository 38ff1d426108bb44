#pragma once
// The round shared by every federated method (ALGORITHMS.md §1):
//
//   server (replicated on every rank) holds x^t and samples S_t (ClientSampler);
//   each active client i (on the rank that holds it, in increasing client order):
//     begin_client(i); y_i = x^t; K_i local steps y ← y − η_l(t) d_i(y; ξ) (LocalSolver);
//     finish_client(i) updates the client's state and writes its upload u_i;
//     u_i goes up through the "update" Uplink with weight p̃_i = p_i / Σ_{j∈S} p_j
//     (p from RunContext::agent_weights: sample counts or uniform);
//   the server receives U = Σ_{i∈S} p̃_i u_i, the method turns it into a pseudo-gradient Δ
//   (server_delta), and the server optimiser steps x^{t+1} from Δ.
//
// The local step size decays per round: η_l(t) = lr · lr_decay^{t−1} (FederatedOptions).
// Metrics (extra_metrics, about the last round): client_drift = mean_{i∈S} ‖y_i − x^t‖²,
// bytes_up_round / bytes_down_round (logical bytes of that round, all clients), active_clients,
// lr_local, and virtual_time, the simulated time after the round (round_clock.hpp: each round lasts
// as long as its slowest active client's local run under --client-speed). Logical downlink: the model to every active client (plus what a method adds, e.g.
// SCAFFOLD's c), 8 bytes per value.
//
// Downlink compression (--compressor-down, compress/downlink.hpp): EF21-P primal error feedback.
// The server keeps w, the model the clients hold (w⁰ = x⁰); active clients start their local
// training from w (y_i = w, prox-type terms centred at w, u_i = y_i − w), the server steps x from
// the aggregate as usual, then broadcasts one message C(x^{t+1} − w) to every client (all N: every
// client must track w to start from it when sampled) and w ← w + C(x^{t+1} − w). Logical downlink
// per round: N messages of the compressor's size, plus the method's extra values (SCAFFOLD's c,
// still dense) to the active clients. With --compressor-down none nothing changes.
//
// Checkpoints hold x, w (when the downlink is compressed), the server optimiser, the uplink's
// state, every client's state and gradient count, and the method's server state; the client
// sampling and minibatches are keyed by the round, so nothing else is needed for a resumed run to
// continue bit for bit (the simulated time is recomputed by replaying the rounds' samples).
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "distopt/compress/downlink.hpp"
#include "distopt/compress/uplink.hpp"
#include "distopt/federated/client_sampler.hpp"
#include "distopt/federated/federated_options.hpp"
#include "distopt/federated/local_solver.hpp"
#include "distopt/federated/round_clock.hpp"
#include "distopt/federated/server_optimizer.hpp"
#include "distopt/method/algorithm.hpp"

namespace distopt {

/// What a client's local run produced, for finish_client.
struct LocalRun {
  Index client = 0;  ///< the client i
  Index steps = 0;   ///< K_i, the local steps it took
  double lr = 0;     ///< η_l(t), the round's local step size
  /// The model the client started from: x^t, or w with a compressed downlink (client_model()).
  const Vector* x = nullptr;
  const Vector* y = nullptr;  ///< y_i after the K_i steps
};

/// The federated round (above); each method derives from it and overrides the hooks.
class FederatedRound : public Algorithm {
 public:
  /// A method named `name` over ctx's clients. Validates `options` (ConfigError naming the
  /// option, also for clients_per_round > N and bad compressor specs) before building anything.
  /// ctx.agent_weights must hold one weight per client.
  FederatedRound(RunContext& ctx, std::string name, FederatedOptions options);

  std::string name() const override { return name_; }
  void initialize(const Vector& x0) override;
  void step(std::int64_t round) override;
  const Vector& model() const override { return x_; }
  std::uint64_t local_grad_evals() const override;
  void extra_metrics(MetricRow& row) override;
  void save(StateArchive& out) const override;
  void load(const StateArchive& in) override;

  /// Local step size of a round: η_l(t) = lr · decay^{t−1}.
  double local_lr(std::int64_t round) const;
  /// The active clients of the last round.
  const std::vector<Index>& last_active() const { return active_; }
  /// The (validated) options the method was built with.
  const FederatedOptions& options() const { return options_; }

 protected:
  // ---- method hooks ----
  /// Called once from initialize(): allocate the method's server and client state (all zero).
  virtual void initialize_method(Index /*dim*/) {}
  /// Before the first active client of a round (collective setup, e.g. a second uplink).
  virtual void begin_round(std::int64_t /*round*/) {}
  /// Before a client's local steps (precompute per-client terms).
  virtual void begin_client(Index /*client*/) {}
  /// The local direction at y on a batch; returns the gradient evaluations made.
  virtual int direction(Index client, const Vector& y, const DataBlock& batch, Vector& d) = 0;
  /// After the local steps: update the client's state, write its upload into `up`.
  /// Default (FedAvg, FedProx): up = y_i − x^t.
  virtual void finish_client(const LocalRun& run, Vector& up);
  /// From U = Σ_{i∈S} p̃_i u_i and the active weight mass P_S = Σ_{i∈S} p_i (both identical on every
  /// rank), the pseudo-gradient Δ. Default: Δ = U. Called on every rank (collectives allowed).
  virtual void server_delta(const Vector& aggregate, double mass, Vector& delta);
  /// Values sent down to each active client besides the model (SCAFFOLD: d for c).
  virtual Index extra_down_values() const { return 0; }
  /// Checkpoint of the method's own state (server state under `server/<method>/...`, client
  /// states under agent keys); called at the end of save(). Default: nothing.
  virtual void save_method(StateArchive& /*out*/) const {}
  /// Restores what save_method() put; called at the end of load(). InputError for missing or
  /// mismatched state. Default: nothing.
  virtual void load_method(const StateArchive& /*in*/) {}

  /// ∇f_i(y; batch) into g (one gradient evaluation).
  void gradient(const Vector& y, const DataBlock& batch, Vector& g) const;
  /// The model the clients hold and start from: x^t, or w with a compressed downlink. Prox-type
  /// terms of local directions are centred here.
  const Vector& client_model() const { return downlink_ ? downlink_->model() : x_; }

  RunContext& ctx_;  ///< the run
  Vector x_;         ///< x^t: the server model, replicated

 private:
  std::string name_;
  FederatedOptions options_;
  LocalSolver solver_;
  ClientSampler sampler_;
  ServerOptimizer server_opt_;
  RoundClock clock_;
  std::unique_ptr<Uplink> uplink_;
  std::unique_ptr<Downlink> downlink_;  // nullptr: the model goes down dense to the active clients
  std::vector<std::uint64_t> grad_evals_;  // per local client
  std::vector<Index> active_;
  Vector y_, up_, aggregate_, delta_;
  double lr_now_ = 0;
  // Last round's local values, reduced in extra_metrics: ‖y_i − x^t‖² per active local client.
  std::vector<std::pair<Index, double>> drift_;
  double bytes_up_round_ = 0, bytes_down_round_ = 0;
};

}  // namespace distopt
