#pragma once
// Evaluation of a model on the whole problem, collectively: f(x) = Σ_a p_a f_a(x) with f_a the
// mean loss over agent a's rows plus the regulariser, ‖∇f(x)‖², training accuracy, and test
// loss/accuracy over the test rows (each rank evaluates its slice; sums are allreduced).
#include "distopt/core/types.hpp"
#include "distopt/io/metrics.hpp"

namespace distopt {

struct RunContext;

/// The metrics of one model (see above).
struct Evaluation {
  double loss = 0;             ///< f(x) = Σ_a p_a f_a(x) + the regulariser
  double grad_norm_sq = 0;     ///< ‖∇f(x)‖² (regulariser included)
  double train_accuracy = -1;  ///< fraction of training rows classified right; -1 for regression
  bool has_test = false;       ///< the run has test rows
  double test_loss = 0;        ///< mean loss over the test rows plus the regulariser
  double test_accuracy = -1;   ///< test accuracy; -1 for regression or without test rows
  /// Sets loss and grad_norm_sq, and train_accuracy, test_loss and test_accuracy where defined.
  void write(MetricRow& row) const;
};

/// Evaluates models on the whole problem of a run (see above).
class Evaluator {
 public:
  /// Evaluates over ctx's data, objective, placement and agent weights (kept by reference).
  explicit Evaluator(RunContext& ctx);
  /// Collective (one allreduce). x must be identical on every rank.
  Evaluation evaluate(const Vector& x);
  /// Collective: ∇f(x) (exact, full data), identical on every rank up to reduction order.
  void full_gradient(const Vector& x, Vector& g);

 private:
  RunContext& ctx_;
  Vector buf_, g_;
};

}  // namespace distopt
