#pragma once
// FedSpeed (Sun et al., ICLR 2023, arXiv 2302.10429; ALGORITHMS.md §1). Per local step k, one
// minibatch ξ for both gradients:
//   g1 = ∇f_i(y_k; ξ)
//   y' = y_k + ρ g1/‖g1‖        (--fedspeed-normalize true, default; false: y_k + ρ g1)
//   g2 = ∇f_i(y'; ξ)
//   g  = (1−α) g1 + α g2        (--fedspeed-alpha α ∈ [0, 1])
//   y_{k+1} = y_k − η_l ( g − ĝ_i + (1/λ)(y_k − x^t) )      (--fedspeed-lambda λ > 0)
// After the K_i steps: ĝ_i ← ĝ_i − (1/λ)(y_K − x^t). ĝ_i starts at 0 and persists across rounds.
// With α = 0 (or ρ = 0) g = g1 and the second gradient is not computed (nor counted); otherwise
// each step costs two gradient evaluations.
//
// The server has two forms (--fedspeed-server):
//   all (default): the rule of the authors' code (github woodenchild95/FL-Simulator,
//     client/fedspeed.py + server/FedSpeed.py), which ran the paper's experiments: the correction
//     is averaged over ALL clients, as in FedDyn. The server keeps ĝ = Σ_i p_i ĝ_i
//     (ĝ ← ĝ − (1/λ) Σ_{i∈S} p_i (y_i − x^t)), clients upload y_i − x^t, and
//     x^{t+1} = Σ_{i∈S} p̃_i y_i − λ ĝ. Their `lamb` is our 1/λ (default lamb 0.1: λ = 10), their
//     ESAM step uses only g2 (α = 1, our default for this form) and perturbs by ρ g1/(‖g1‖+1e-7)
//     (we use ρ g1/‖g1‖, and no perturbation when g1 = 0).
//   active: the printed Algorithm 1: each active client uploads x̂_i = y_K − λ ĝ_i (with the updated
//     ĝ_i) and the server averages over the active clients, x^{t+1} = Σ_{i∈S} p̃_i x̂_i. At the
//     optimum x̂_i = x* − λ∇f_i(x*), whose weighted mean is x* only over all clients: under partial
//     participation x* is not a fixed point (docs/algorithms.md). Default α 0.9 for this form.
// With full participation and equal α both forms give the same iterates.
#include <optional>
#include <string>

#include "distopt/federated/client_states.hpp"
#include "distopt/federated/federated_round.hpp"

namespace distopt {

/// Over which clients FedSpeed's server averages the correction (--fedspeed-server).
enum class FedSpeedServer {
  kAll,     ///< all: the authors' code (the paper's experiments), the default
  kActive,  ///< active: the printed Algorithm 1, over the active clients only
};

/// FedSpeed's options: the round's and the method's λ, ρ, α, normalisation and server form.
struct FedSpeedOptions {
  /// The federated round (sampling, local schedule, step sizes, server, links).
  FederatedOptions federated{};
  /// --fedspeed-lambda: prox-correction λ > 0, prox term (1/λ)(y − x^t) (default 10, the
  /// authors' --lamb 0.1).
  double lambda = 10.0;
  /// --fedspeed-rho: perturbation radius ρ >= 0 (default 0.1, the authors' --rho).
  double rho = 0.1;
  /// --fedspeed-alpha: merge weight α in [0, 1] of the perturbed gradient. Unset (default): 1
  /// for server = kAll (the authors' ESAM step), 0.9 for server = kActive.
  std::optional<double> alpha{};
  /// --fedspeed-normalize: perturb along g1/‖g1‖ (true, default, as the authors' code) or along
  /// g1 (false).
  bool normalize = true;
  /// --fedspeed-server: all (default) or active (above).
  FedSpeedServer server = FedSpeedServer::kAll;

  /// The α the method uses: `alpha` if set, else the server form's default.
  double alpha_used() const { return alpha.value_or(server == FedSpeedServer::kAll ? 1.0 : 0.9); }
  /// federated.validate(), then ConfigError("fedspeed-lambda" | "fedspeed-rho" |
  /// "fedspeed-alpha", ...) unless λ > 0, ρ >= 0 and α in [0, 1].
  void validate() const;
};

/// The --fedspeed-server value: "all" or "active".
std::string to_string(FedSpeedServer server);

/// FedSpeed in either server form (above).
class FedSpeed : public FederatedRound {
 public:
  /// Validates `options` (ConfigError naming the option) and builds the method; `name` is what
  /// name() reports (the registry key: "fedspeed", or the alias "fedspeed-sim").
  FedSpeed(RunContext& ctx, FedSpeedOptions options, std::string name = "fedspeed");

 protected:
  void initialize_method(Index dim) override;
  int direction(Index client, const Vector& y, const DataBlock& batch, Vector& d) override;
  void finish_client(const LocalRun& run, Vector& up) override;
  void server_delta(const Vector& aggregate, double mass, Vector& delta) override;
  void save_method(StateArchive& out) const override;
  void load_method(const StateArchive& in) override;

 private:
  bool all_() const { return server_ == FedSpeedServer::kAll; }
  FedSpeedServer server_;
  double lambda_, rho_, alpha_;
  bool normalize_;
  Vector g2_, y_pert_;
  Vector g_server_;  // server = all: ĝ = Σ_i p_i ĝ_i
  ClientStates g_hat_;
};

}  // namespace distopt
