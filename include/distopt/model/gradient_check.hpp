#pragma once
// Finite-difference checks of an Objective (used by the tests; handy when writing a new model).
// On random unit directions u, with central differences (error O(ε²) plus rounding O(δ/ε)):
//   gradient:  |(f(x+εu) − f(x−εu))/(2ε) − ∇f(x)ᵀu| / max(‖∇f(x)‖, floor)
//   HVP:       ‖(∇f(x+εu) − ∇f(x−εu))/(2ε) − ∇²f(x)u‖ / max(‖∇²f(x)u‖, floor)
// Both checks use the compositions loss()/loss_grad()/hvp(), so the regulariser is checked too.
#include <cstdint>

#include "distopt/model/objective.hpp"

namespace distopt {

/// Settings of check_gradient().
struct GradientCheckOptions {
  int directions = 6;      ///< number of random unit directions u
  double eps_loss = 1e-5;  ///< step ε for differences of the loss
  double eps_grad = 1e-5;  ///< step ε for differences of the gradient
  double floor = 1e-10;    ///< denominators never go below this
  std::uint64_t seed = 1;  ///< directions come from RandomStream(seed, 0, 0)
  bool check_hvp = true;   ///< also check the HVP (only when the objective has_hvp())
};

/// Worst relative errors found by check_gradient().
struct GradientCheckResult {
  double grad_rel_error = 0.0;  ///< gradient error, worst over the directions
  double hvp_rel_error = 0.0;   ///< HVP error, worst over the directions; 0 when not checked
  bool hvp_checked = false;     ///< whether the HVP was checked
};

/// Runs the checks above for `f` at `x` on `rows` (f.loss(), f.loss_grad(), f.hvp()).
GradientCheckResult check_gradient(const Objective& f, const Vector& x, const DataBlock& rows,
                                   const GradientCheckOptions& opt = {});

}  // namespace distopt
