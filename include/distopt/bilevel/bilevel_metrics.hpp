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
///    (`local_counts`, this rank's blocks); the evaluation's own calls are not counted;
///  * the problem's lower metrics (add_lower_metrics) at the exact lower solutions y_i*(x) under
///    their own names ("test_accuracy": the model the hyper-parameters x produce) and at the
///    method's `local_y` as "iterate_<name>".
void bilevel_exact_metrics(Communicator& comm, Reduction reduction, BilevelProblem& problem,
                           const HypergradientSolveOptions& solve, const Vector& x,
                           const std::vector<Vector>& local_y,
                           const std::vector<OracleCounts>& local_counts, MetricRow& row,
                           Vector* grad = nullptr);

/// Where the stochastic bilevel methods spend their steps' wall time on this rank (seconds,
/// cumulative over the steps this process ran; not checkpointed): the sampled blocks' oracle
/// work ("block kernels": gradients, HVPs, Hessians, mixed products, their solves), the
/// aggregation of their contributions over ranks (including the wait for the slowest rank), and
/// the whole step (the rest is the x and lower-variable updates).
struct PhaseTimes {
  double kernels = 0;      ///< the sampled blocks' oracle work
  double aggregation = 0;  ///< the (Sparse)AgentSum over ranks
  double total = 0;        ///< the whole step
  /// Collective: sets "time_block_kernels", "time_aggregation" and "time_steps" in `row`, each
  /// the mean over the ranks.
  void report(Communicator& comm, MetricRow& row) const;
};

/// Seconds on a monotonic clock since an arbitrary origin (differences time phases).
double monotonic_seconds();

/// Collective: the mean over every block of problem.evaluate_lower() for the lower variables
/// `local_y` of this rank's blocks (placement order) at `x`, set in `row` as `prefix` + each of
/// lower_metric_names(). Summed through AgentSum with `reduction` (bitwise across rank counts with
/// kOrdered). Does nothing when the problem names no lower metrics.
void add_lower_metrics(Communicator& comm, Reduction reduction, BilevelProblem& problem,
                       const Vector& x, const std::vector<Vector>& local_y,
                       const std::string& prefix, MetricRow& row);

/// Throws Error unless `problem`'s placement is over `comm`'s ranks (`who` names the method).
void check_bilevel_placement(const Communicator& comm, const BilevelProblem& problem,
                             const char* who);

}  // namespace distopt
