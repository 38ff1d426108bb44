#pragma once
// FedSpeed (Sun et al., ICLR 2023, arXiv 2302.10429; ALGORITHMS.md §1), paper form (--algorithm
// fedspeed). Per local step k, one minibatch ξ for both gradients:
//   g1 = ∇f_i(y_k; ξ)
//   y' = y_k + ρ g1/‖g1‖        (--fedspeed-normalize true, default; false: y_k + ρ g1)
//   g2 = ∇f_i(y'; ξ)
//   g  = (1−α) g1 + α g2        (--fedspeed-alpha α ∈ [0, 1])
//   y_{k+1} = y_k − η_l ( g − ĝ_i + (1/λ)(y_k − x^t) )      (--fedspeed-lambda λ > 0)
// After the K_i steps: ĝ_i ← ĝ_i − (1/λ)(y_K − x^t), and the client uploads x̂_i = y_K − λ ĝ_i
// (as the update x̂_i − x^t). Server: x^{t+1} = Σ_{i∈S} p̃_i x̂_i (Δ = U for the server optimiser).
// ĝ_i starts at 0 and persists across rounds. With α = 0 (or ρ = 0) g = g1 and the second gradient
// is not computed (nor counted); otherwise each step costs two gradient evaluations.
// FedSpeedOptions holds λ, ρ, α and the normalisation.
//
// Simulator form (--algorithm fedspeed-sim): the rule of the authors' FL-Simulator code
// (github woodenchild95/FL-Simulator, client/fedspeed.py + server/FedSpeed.py), which differs from
// the paper in two ways: α = 1 (only the perturbed gradient g2 drives the step; --fedspeed-alpha
// must be left at 1), and the correction the server subtracts is averaged over ALL clients, as in
// FedDyn: the server keeps ĝ = Σ_i p_i ĝ_i (ĝ ← ĝ − (1/λ) Σ_{i∈S} p_i (y_i − x^t)), clients upload
// y_i − x^t, and x^{t+1} = Σ_{i∈S} p̃_i y_i − λ ĝ. (Their `lamb` is our 1/λ; their gradient
// clipping and weight decay are not reproduced: use --l2 for the latter.) With full participation
// both forms give the same iterates when α = 1.
#include <optional>

#include "distopt/federated/client_states.hpp"
#include "distopt/federated/federated_round.hpp"

namespace distopt {

/// Which FedSpeed: the paper's rule (--algorithm fedspeed) or the authors' simulator code
/// (--algorithm fedspeed-sim).
enum class FedSpeedForm { kPaper, kSimulator };

/// FedSpeed's options: the round's and the method's λ, ρ, α and normalisation.
struct FedSpeedOptions {
  /// The federated round (sampling, local schedule, step sizes, server, links).
  FederatedOptions federated{};
  /// --fedspeed-lambda: prox-correction λ > 0, prox term (1/λ)(y − x^t) (default 10).
  double lambda = 10.0;
  /// --fedspeed-rho: perturbation radius ρ >= 0 (default 0.1).
  double rho = 0.1;
  /// --fedspeed-alpha: merge weight α in [0, 1] of the perturbed gradient. Unset (default): 0.9
  /// for the paper form, 1 for the simulator form, which allows no other value.
  std::optional<double> alpha{};
  /// --fedspeed-normalize: perturb along g1/‖g1‖ (true, default) or along g1 (false).
  bool normalize = true;

  /// The α a method of `form` uses: `alpha` if set, else the form's default.
  double alpha_for(FedSpeedForm form) const {
    return alpha.value_or(form == FedSpeedForm::kPaper ? 0.9 : 1.0);
  }
  /// federated.validate(), then ConfigError("fedspeed-lambda" | "fedspeed-rho" |
  /// "fedspeed-alpha", ...) unless λ > 0, ρ >= 0 and α in [0, 1]; for the simulator form also
  /// ConfigError("fedspeed-alpha", ...) when α is set to anything but 1.
  void validate(FedSpeedForm form = FedSpeedForm::kPaper) const;
};

/// FedSpeed in its paper or simulator form (above).
class FedSpeed : public FederatedRound {
 public:
  /// The two forms (FedSpeedForm).
  using Form = FedSpeedForm;
  /// Validates `options` for `form` (ConfigError naming the option) and builds the method.
  FedSpeed(RunContext& ctx, FedSpeedOptions options, Form form);

 protected:
  void initialize_method(Index dim) override;
  int direction(Index client, const Vector& y, const DataBlock& batch, Vector& d) override;
  void finish_client(const LocalRun& run, Vector& up) override;
  void server_delta(const Vector& aggregate, double mass, Vector& delta) override;
  void save_method(StateArchive& out) const override;
  void load_method(const StateArchive& in) override;

 private:
  Form form_;
  double lambda_, rho_, alpha_;
  bool normalize_;
  Vector g2_, y_pert_;
  Vector g_server_;  // simulator form: ĝ = Σ_i p_i ĝ_i
  ClientStates g_hat_;
};

}  // namespace distopt
