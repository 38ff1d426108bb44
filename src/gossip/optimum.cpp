#include "distopt/gossip/optimum.hpp"

#include <cmath>

#include "distopt/method/algorithm.hpp"
#include "distopt/method/evaluator.hpp"

namespace distopt {

OptimumResult solve_optimum(RunContext& ctx, const Vector& x0, double L, double mu, double tol_factor,
                            std::int64_t max_iterations) {
  Evaluator ev(ctx);
  const double sk = std::sqrt(L / mu);
  const double momentum = (sk - 1) / (sk + 1);
  const double tol = tol_factor * mu;
  Vector x = x0, x_prev = x0, y = x0, g;
  OptimumResult best{x0, std::numeric_limits<double>::infinity(), 0};
  std::int64_t since_best = 0;
  for (std::int64_t k = 0; k < max_iterations; ++k) {
    ev.full_gradient(y, g);
    const double gn = g.norm();
    if (gn < best.grad_norm) {
      best = {y, gn, k};
      since_best = 0;
    } else if (++since_best > 500) {
      break;  // at the floating-point floor
    }
    if (gn <= tol) break;
    x_prev = x;
    x = y - g / L;
    // Gradient restart (O'Donoghue & Candès 2015): drop the momentum when it points uphill.
    if (g.dot(x - x_prev) > 0) {
      x_prev = x;
    }
    y = x + momentum * (x - x_prev);
  }
  ctx.comm.broadcast(best.x);
  return best;
}

}  // namespace distopt
