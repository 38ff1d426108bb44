#pragma once
// Step sizes from the theory of the compression methods (--lr theory, --lr-factor).
//
// EF21 (arXiv 2106.05203, Thm. 1) and EF21-W (arXiv 2402.10774): with a contractive compressor of
// parameter δ, θ = 1 − √(1−δ) and β = (1−δ)/(1 − √(1−δ)),
//   EF21:   γ = 1/(L + L_QM √(β/θ)),   L_QM = √(Σ_a p_a L_a²)   (quadratic mean; p_a = 1/n in the paper)
//   EF21-W: γ = 1/(L + L_AM √(β/θ)),   L_AM = Σ_a p_a L_a        (arithmetic mean)
// where L_a = Objective::smoothness(shard of a) and L, the smoothness of f = Σ_a p_a f_a, is
// bounded by L_AM (used here: a valid, slightly conservative bound). Uncompressed gd: γ = 1/L.
#include <vector>

#include "distopt/compress/link_options.hpp"
#include "distopt/method/algorithm.hpp"

namespace distopt {

/// L_a of every agent (all of them, on every rank, in agent order). Collective.
std::vector<double> gather_agent_smoothness(RunContext& ctx);

/// The constants of EF21's step-size theory (arXiv 2106.05203, Thm. 1) for a δ-contractive
/// compressor.
struct Ef21Constants {
  /// theta: θ = 1 − √(1−δ).
  double theta = 1.0, beta = 0.0;  ///< β = (1−δ)/(1 − √(1−δ)); 0 for δ = 1
};
/// θ and β of a δ-contractive compressor (δ ∈ (0, 1]; Error otherwise).
Ef21Constants ef21_constants(double delta);
/// 1/(L + L_mean √(β/θ)).
double ef21_step(double L, double L_mean, double delta);

/// A step size given as a number or as "the theory's step" (--lr, --lr-factor).
struct StepSize {
  /// --lr theory: the theoretical step of the uplink's feedback (see resolve_step_size).
  bool theory = false;
  /// --lr as a number (used when theory is false); default 0.1.
  double value = 0.1;
  /// --lr-factor: multiplier of the theoretical step; default 1.
  double factor = 1.0;
  /// "theory" or a number; ConfigError(key) otherwise.
  static StepSize parse(const std::string& key, const std::string& text);
  /// value > 0 (key "lr") unless theory; factor > 0 (key "lr-factor").
  void validate() const;
};

/// The step size of gd/sgd: the number `lr.value`, or, with `lr.theory`, the theoretical step of
/// the uplink's feedback (ef21 or ef21w; or uncompressed gd) times `lr.factor`.
/// Collective (gathers L_a); throws ConfigError("lr", ...) where no theory applies.
double resolve_step_size(RunContext& ctx, const StepSize& lr, const UplinkOptions& uplink);

}  // namespace distopt
