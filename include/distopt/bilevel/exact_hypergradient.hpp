#pragma once
// Exact (full-batch) hypergradients, the reference every stochastic bilevel method is checked
// against (ALGORITHMS.md §4, "exact full-batch hypergradient descent ... for tests"). For block i
// at x, by the implicit function theorem,
//
//     ∇F_i(x) = ∇_x f_i(x, y*) − ∇²_xy g_i(x, y*) v,   ∇²_yy g_i(x, y*) v = ∇_y f_i(x, y*),
//
// with y* = y_i*(x). Both solves use every row of the block:
//  * the lower problem min_y g_i(x, y) by damped Newton steps from a warm start (Armijo
//    backtracking on g_i), until ‖∇_y g_i‖ ≤ lower_tol;
//  * each linear system with the lower Hessian by Cholesky on the full `∇²_yy g_i` when the
//    problem forms it (and the solver allows), else by conjugate gradients on Hessian–vector
//    products only (the AID-CG route of hypertorch/jaxopt), from zero, until the relative
//    residual is ≤ cg_tol.
// The collective F(x) = (1/m) Σ_i f_i(x, y_i*) and ∇F(x) = (1/m) Σ_i ∇F_i(x) sum the blocks
// through AgentSum (comm/agent_sum.hpp); with Reduction::kOrdered the result is bitwise the same
// at any number of ranks.
#include <functional>
#include <string>
#include <vector>

#include "distopt/bilevel/bilevel_problem.hpp"
#include "distopt/comm/agent_sum.hpp"
#include "distopt/comm/communicator.hpp"
#include "distopt/core/types.hpp"

namespace distopt {

/// How linear systems with the lower Hessian are solved.
enum class LinearSolver {
  kAuto,      ///< Cholesky when the problem has_lower_hessian(), else CG
  kCholesky,  ///< always Cholesky (the problem must have_lower_hessian())
  kCg,        ///< always conjugate gradients on Hessian–vector products
};
/// "auto" | "cholesky" | "cg"; ConfigError("bilevel-solver") otherwise.
LinearSolver linear_solver_from_string(const std::string& s);
/// The name linear_solver_from_string() reads.
const char* to_string(LinearSolver s);

/// Typed options of the exact lower and linear solves (the command-line keys in parentheses).
struct HypergradientSolveOptions {
  /// The linear solver ("bilevel-solver", default auto).
  LinearSolver solver = LinearSolver::kAuto;
  /// CG stops when ‖H v − b‖ ≤ cg_tol ‖b‖, in (0, 1) ("bilevel-cg-tol", default 1e-12).
  double cg_tol = 1e-12;
  /// At most this many CG iterations per system, ≥ 1 ("bilevel-cg-max-iter", default 1000).
  Index cg_max_iter = 1000;
  /// The lower solve stops when ‖∇_y g_i(x, y)‖ ≤ lower_tol, > 0 ("bilevel-lower-tol",
  /// default 1e-11).
  double lower_tol = 1e-11;
  /// At most this many Newton steps per lower solve, ≥ 1 ("bilevel-lower-max-iter", default 50).
  Index lower_max_iter = 50;
  /// Throws ConfigError naming the key of the first invalid field.
  void validate() const;
};

/// What the solves did, over the blocks of this rank (not collective).
struct HypergradientStats {
  Index newton_steps = 0;      ///< Newton steps of the lower solves
  Index cg_iterations = 0;     ///< CG iterations (Newton directions and hypergradient systems)
  double lower_grad_norm = 0;  ///< largest final ‖∇_y g_i‖ over the blocks solved
  double linear_residual = 0;  ///< largest final relative residual of the CG systems
  bool converged = true;       ///< every lower solve and CG system met its tolerance
  OracleCounts counts{};       ///< oracle calls made
  /// Sums the counts, keeps the largest residuals, ands the convergence flags.
  void merge(const HypergradientStats& o);
};

/// What conjugate_gradient() did.
struct CgResult {
  Index iterations = 0;          ///< iterations performed
  double relative_residual = 0;  ///< ‖A x − b‖ / ‖b‖ at the end (0 when b = 0)
  bool converged = false;        ///< relative_residual ≤ tol
};

/// Solves A x = b for symmetric positive definite A given by `apply(v, out)` (out = A v), from
/// the x passed in, by conjugate gradients until ‖A x − b‖ ≤ tol ‖b‖ or max_iter iterations
/// (b = 0 gives x = 0).
CgResult conjugate_gradient(const std::function<void(const Vector&, Vector&)>& apply,
                            const Vector& b, Vector& x, double tol, Index max_iter);

/// Solves the lower problem of a local block: y (a warm start on entry) becomes y_i*(x) to
/// options.lower_tol. Returns g_i(x, y). Adds to `stats` unless null.
double solve_lower(BilevelProblem& problem, Index block, const Vector& x, Vector& y,
                   const HypergradientSolveOptions& options, HypergradientStats* stats = nullptr);

/// One local block at x: y (a warm start on entry) becomes y_i*(x), `grad` (unless null) the
/// block's exact hypergradient ∇F_i(x). Returns f_i(x, y_i*(x)). Adds to `stats` unless null.
double block_hypergradient(BilevelProblem& problem, Index block, const Vector& x, Vector& y,
                           Vector* grad, const HypergradientSolveOptions& options,
                           HypergradientStats* stats = nullptr);

/// Collective: F(x) = (1/m) Σ_i f_i(x, y_i*(x)) over every block, and ∇F(x) into `grad` unless
/// null, identical on every rank (bitwise at any rank count with Reduction::kOrdered). `local_y`
/// holds this rank's blocks' warm starts in placement order (resized and filled with
/// initial_lower() when its size is wrong) and receives their lower solutions. One AgentSum of
/// 1 + `upper_dim()` doubles. Adds this rank's work to `stats` unless null.
double exact_hypergradient(Communicator& comm, Reduction reduction, BilevelProblem& problem,
                           const Vector& x, std::vector<Vector>& local_y, Vector* grad,
                           const HypergradientSolveOptions& options,
                           HypergradientStats* stats = nullptr);

}  // namespace distopt
