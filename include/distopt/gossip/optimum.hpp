#pragma once
// The centralised solve behind dist_to_opt: x* = argmin f, f = Σ_a p_a f_a, by Nesterov's
// accelerated gradient method for L-smooth μ-strongly convex functions (constant momentum
// (√κ − 1)/(√κ + 1), with the gradient restart of O'Donoghue & Candès), on the full objective through the
// Evaluator, until ‖∇f(x)‖ ≤ tol_factor·μ (so ‖x − x*‖ ≤ tol_factor) or it stops improving.
#include "distopt/core/types.hpp"

namespace distopt {

struct RunContext;

/// The outcome of solve_optimum().
struct OptimumResult {
  Vector x;                     ///< the iterate with the smallest ‖∇f‖ seen (x*)
  double grad_norm = 0;         ///< ‖∇f(x)‖ there
  std::int64_t iterations = 0;  ///< the iteration at which x was reached
};

/// Collective. x* of f from x0 for f L-smooth and μ-strongly convex (above), at most
/// max_iterations gradient evaluations. The result is broadcast from rank 0, so it is identical
/// on every rank.
OptimumResult solve_optimum(RunContext& ctx, const Vector& x0, double L, double mu,
                            double tol_factor = 1e-12, std::int64_t max_iterations = 200000);

}  // namespace distopt
