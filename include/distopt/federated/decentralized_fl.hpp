#pragma once
// Decentralized federated learning: clients on a graph (--graph), no server (ALGORITHMS.md §1;
// docs/algorithms.md "Decentralized federated learning"). Every round t, every client i:
//
//   local phase, K_i steps from its own model (LocalSolver schedule: --local-steps K, or
//   --local-epochs, on --batch-size minibatches; step size η(t) = lr · lr_decay^{t−1}):
//     y_{i,0} = x_i^t,   y_{i,k+1} = y_{i,k} − η(t) d_i(y_{i,k}; ξ_k)
//       dfedavg  (DFedAvg, Sun et al. 2021, arXiv 2104.11375):      d = ∇f_i(y; ξ)
//       dfedsam  (DFedSAM, Shi et al. ICML 2023, arXiv 2302.04083): d = ∇f_i(y + ρ g/‖g‖; ξ),
//                g = ∇f_i(y; ξ) on the same minibatch ξ (--sam-rho ρ; ε = 0 when g = 0);
//   gossip phase, Q steps (--gossip-steps; Q > 1 is DFedSAM-MGS / DFedAvg with multiple gossip
//   steps) of the Metropolis mixing z ← W z (GossipMixer):
//     z_i^{t,0} = y_{i,K},   z^{t,q+1} = W z^{t,q},   x_i^{t+1} = z_i^{t,Q}.
//
// f_i is client i's own mean loss (the paper's local objective), so the clients minimise the
// uniform average (1/n) Σ_i f_i: the framework's objective Σ p_i f_i with --weighting uniform.
// The evaluated model is the average x̄ = (1/n) Σ_i x_i (the paper's "averaged model"), summed
// over clients with --reduction (bitwise identical at any rank count with ordered).
//
// With K = 1, full batches and ρ = 0 (dfedavg), a round is x ← W^Q (x − η ∇f(x)), the update of
// the synchronous gossip baseline (--algorithm gossip) with uniform weights: the two are tested
// equal bit for bit.
//
// Why the federated layer: the round is the federated client loop without the server (the local
// schedule, minibatch streams and SAM step of LocalSolver/FedSpeed, any model including MLPs),
// while the gossip family's GossipProblem needs convex models with a known smoothness constant.
// What it needs of gossip, the graph and the mixing step, sits below both families in the
// topology layer (GossipMixer), so neither family includes the other.
//
// Metrics (extra_metrics): consensus = (1/n) Σ ‖x_i − x̄‖², client_drift = (1/n) Σ ‖y_{i,K} −
// x_i^t‖² of the last round, bytes_per_edge_round = Q · d · 8 (the logical bytes one directed edge
// carries per round: every gossip step sends the d float64 values of a model each way), comm_events
// (edge activations), lr_local, virtual_time (round_clock.hpp). Checkpoints hold every client's model and gradient count and the
// round count; minibatches are keyed by (seed, client, round), so resume continues bit for bit.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "distopt/comm/neighbor_exchange.hpp"
#include "distopt/data/dataset.hpp"
#include "distopt/federated/local_solver.hpp"
#include "distopt/federated/round_clock.hpp"
#include "distopt/method/algorithm.hpp"
#include "distopt/topology/gossip_mixer.hpp"

namespace distopt {

/// The local step of a decentralized federated method: plain SGD (DFedAvg) or SAM (DFedSAM).
enum class DecentralizedLocalStep { kSgd, kSam };

/// Options of DecentralizedFL (Ceres style: defaults are the command line's).
struct DecentralizedFLOptions {
  /// --local-steps, --local-epochs, --batch-size: the clients' local schedule (defaults 10, 0, 0).
  LocalSchedule schedule{};
  /// --lr: local step size η > 0 of the first round (default 0.1).
  double lr = 0.1;
  /// --lr-decay: in (0, 1]; the step size of round t is lr · lr_decay^{t−1} (default 1).
  double lr_decay = 1.0;
  /// --graph: the clients' communication graph (topology/graph_spec.hpp; default ring).
  std::string graph = "ring";
  /// --gossip-steps: Metropolis gossip steps Q >= 1 per round (default 1; Q > 1: MGS).
  std::int64_t gossip_steps = 1;
  /// --sam-rho: SAM perturbation radius ρ >= 0 of dfedsam (default 0.01; ignored by dfedavg).
  double sam_rho = 0.01;
  /// --client-speed: the clients' speeds; every client trains every round, so a round lasts
  /// max_i τ_i of simulated time (metric virtual_time, round_clock.hpp; default constant 1).
  ClientSpeedOptions speed{};
  /// Throws ConfigError naming the option ("local-steps", "local-epochs", "batch-size", "lr",
  /// "lr-decay", "gossip-steps", "sam-rho", "client-speed"). The graph is checked when it is built ("graph").
  void validate() const;
};

/// DFedAvg / DFedSAM / DFedSAM-MGS over this rank's clients (see the file comment).
class DecentralizedFL : public Algorithm {
 public:
  /// Collective (duplicates ctx.comm for the neighbour exchange). Validates `options`, builds the
  /// graph over ctx's agents; ConfigError naming the option before any communication.
  DecentralizedFL(RunContext& ctx, DecentralizedFLOptions options, DecentralizedLocalStep local);

  std::string name() const override {
    return local_ == DecentralizedLocalStep::kSam ? "dfedsam" : "dfedavg";
  }
  void initialize(const Vector& x0) override;
  void step(std::int64_t round) override;
  /// x̄ = (1/n) Σ_i x_i (collective on first use after a step; cached).
  const Vector& model() const override;
  std::uint64_t local_grad_evals() const override;
  void extra_metrics(MetricRow& row) override;
  void save(StateArchive& out) const override;
  void load(const StateArchive& in) override;
  /// `/model/nodes`: every client's model, one row per client (gathered to every rank).
  void final_outputs(std::map<std::string, RowMatrix>& out) override;

  /// Local step size of a round: lr · lr_decay^{t−1}.
  double local_lr(std::int64_t round) const;
  /// This rank's clients' models, one row per local client in client order.
  const RowMatrix& local_models() const { return X_; }
  /// The graph and its mixing weights.
  const GossipMixer& mixer() const { return mixer_; }
  /// The (validated) options.
  const DecentralizedFLOptions& options() const { return options_; }

 private:
  int direction(const Vector& y, const DataBlock& batch, Vector& d);

  RunContext& ctx_;
  DecentralizedFLOptions options_;
  DecentralizedLocalStep local_;
  Graph graph_;  // built (and checked) before the channel is duplicated
  NeighborExchange channel_;
  GossipMixer mixer_;
  LocalSolver solver_;
  RoundClock clock_;
  std::vector<Dataset> rows_;              // each local client's rows, in its own storage
  std::vector<std::uint64_t> grad_evals_;  // per local client
  RowMatrix X_;                            // local clients' models
  Vector y_, g_, y_pert_;
  std::vector<double> drift_;  // last round's ‖y_{i,K} − x_i^t‖² per local client
  std::int64_t rounds_ = 0;
  double lr_now_ = 0;
  mutable std::optional<Vector> mean_;
};

}  // namespace distopt
