#pragma once
// What the stochastic bilevel methods (BSVRB v1/v2, F2SA) report at an evaluation point, until the
// Trainer knows bilevel problems: the exact upper value F(x) and ‖∇F(x)‖² (bilevel/
// exact_hypergradient.hpp, full batches, warm-started from COPIES of the method's lower variables,
// so evaluating never changes the trajectory), the lower residual of the method's own y_i, and the
// oracle counts. Expensive (a lower solve and a linear solve per block): evaluation points only.
#include <vector>

#include "distopt/bilevel/bilevel_problem.hpp"
#include "distopt/bilevel/exact_hypergradient.hpp"
#include "distopt/comm/agent_sum.hpp"
#include "distopt/comm/communicator.hpp"
#include "distopt/io/metrics.hpp"

namespace distopt {

/// Collective. Sets in `row`:
///  * "upper_value" and "loss": F(x); "hypergrad_norm_sq" and "grad_norm_sq": ‖∇F(x)‖² (so
///    targets such as grad_norm_sq<1e-6 work); `grad` receives ∇F(x) unless null;
///  * "lower_residual": max over the blocks of the full-batch ‖∇_y g_i(x, y_i)‖ at the method's
///    lower variables `local_y` (this rank's blocks in placement order; not modified);
///  * "hvp_evals", "jvp_evals", "hessian_evals": the method's oracle calls over all blocks
///    (`local_counts`, this rank's blocks); the evaluation's own calls are not counted.
void bilevel_exact_metrics(Communicator& comm, Reduction reduction, BilevelProblem& problem,
                           const HypergradientSolveOptions& solve, const Vector& x,
                           const std::vector<Vector>& local_y,
                           const std::vector<OracleCounts>& local_counts, MetricRow& row,
                           Vector* grad = nullptr);

/// Throws Error unless `problem`'s placement is over `comm`'s ranks (`who` names the method).
void check_bilevel_placement(const Communicator& comm, const BilevelProblem& problem,
                             const char* who);

}  // namespace distopt
