#pragma once
// `exact-hypergrad`: full-batch hypergradient descent x ← x − η ∇F(x), with ∇F(x) the exact
// hypergradient of every block (bilevel/exact_hypergradient.hpp). It is the bilevel family's
// reference (ALGORITHMS.md §4, "exact full-batch hypergradient descent (solve each lower problem,
// CG for the linear system) for tests"): the optimum value of F the stochastic methods (BSVRB v1
// and v2, Hu et al. ICML 2023; F2SA, Kwon et al. ICML 2023) are measured against.
//
// Each block's lower solution y_i is block state, owned by the block's rank, and warm-starts the
// next iteration's lower solve; it is saved in checkpoints (StateArchive::agent_key(i,
// "bilevel/y")), so a resumed run continues bit for bit, even at another rank count.
//
// The method evaluates itself (Algorithm::evaluates_itself()): the Trainer runs no Evaluator,
// and extra_metrics() reports F and ‖∇F‖² as "loss" and "grad_norm_sq" (so --target-metric
// grad_norm_sq<... works as for every method) and again as "upper_value" and
// "hypergrad_norm_sq", with "lower_residual" and the oracle counts, computed at the current x on
// copies of the warm starts, so evaluating never changes the trajectory.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "distopt/bilevel/bilevel_problem.hpp"
#include "distopt/bilevel/exact_hypergradient.hpp"
#include "distopt/comm/agent_sum.hpp"
#include "distopt/comm/communicator.hpp"
#include "distopt/method/algorithm.hpp"

namespace distopt {

/// Typed options of ExactHypergradientDescent (the command-line keys in parentheses).
struct ExactHypergradOptions {
  /// η > 0: the step size on x ("lr", default 0.1).
  double lr = 0.1;
  /// The lower and linear solves ("bilevel-solver", "bilevel-cg-tol", "bilevel-cg-max-iter",
  /// "bilevel-lower-tol", "bilevel-lower-max-iter").
  HypergradientSolveOptions solve{};
  /// Throws ConfigError naming the key of the first invalid field.
  void validate() const;
};

/// What a bilevel method runs on (shared by reference, owned by the caller).
struct BilevelContext {
  Communicator& comm;       ///< the ranks the blocks are placed on
  BilevelProblem& problem;  ///< this rank's blocks (problem.placement() over comm's ranks)
  std::uint64_t seed = 1;   ///< the run's seed (sampling streams)
  Reduction reduction = Reduction::kOrdered;  ///< how sums over blocks are reduced
};

/// Exact full-batch hypergradient descent (an Algorithm; model() is x).
class ExactHypergradientDescent : public Algorithm {
 public:
  /// Validates the options and the problem (ConfigError naming the key) and checks that the
  /// problem's placement is over ctx.comm's ranks.
  ExactHypergradientDescent(BilevelContext ctx, const ExactHypergradOptions& options);

  /// "exact-hypergrad".
  std::string name() const override { return "exact-hypergrad"; }
  /// x = x0 (identical on every rank); every local block's y_i = problem.initial_lower(i).
  void initialize(const Vector& x0) override;
  /// One step x ← x − η ∇F(x) (collective).
  void step(std::int64_t round) override;
  /// x.
  const Vector& model() const override { return x_; }
  /// Gradient oracle calls of this rank's blocks so far (full batches).
  std::uint64_t local_grad_evals() const override;
  /// True: extra_metrics() sets "loss" and "grad_norm_sq" (F(x) and ‖∇F(x)‖²).
  bool evaluates_itself() const override { return true; }
  /// Collective: "loss" and "upper_value" F(x), "grad_norm_sq" and "hypergrad_norm_sq"
  /// ‖∇F(x)‖², "lower_residual" (largest
  /// ‖∇_y g_i‖ after the solves), "hvp_evals", "jvp_evals", "hessian_evals" (over all blocks), at
  /// the current x, without touching the method's state.
  void extra_metrics(MetricRow& row) override;
  /// x (replicated, "bilevel/x") and each local block's y_i and oracle counts.
  void save(StateArchive& out) const override;
  /// The state save() wrote (any rank count).
  void load(const StateArchive& in) override;
  /// Collective: "lower", the m × `lower_dim()` matrix of every block's lower variable y_i (row
  /// i: block i's warm start, the lower solution at the x of the last step), on rank 0.
  void final_outputs(std::map<std::string, RowMatrix>& out) override;

  /// F(x) at the x of the last step, before its update (NaN before the first).
  double last_value() const { return last_value_; }
  /// ‖∇F(x)‖² of the last step (NaN before the first).
  double last_grad_norm_sq() const { return last_grad_norm_sq_; }
  /// Collective: F at the current x and, into `grad` unless null, ∇F (on copies of the warm
  /// starts: the method's state does not change).
  double evaluate(Vector* grad);
  /// This rank's blocks' lower variables, in placement order.
  const std::vector<Vector>& local_lower() const { return y_; }

 private:
  BilevelContext ctx_;
  ExactHypergradOptions o_;
  Vector x_, grad_;
  std::vector<Vector> y_;
  std::vector<OracleCounts> counts_;  // per local block
  double last_value_, last_grad_norm_sq_;
};

}  // namespace distopt
