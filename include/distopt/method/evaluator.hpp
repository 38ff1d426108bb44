#pragma once
// Evaluation of a model on the whole problem, collectively: f(x) = Σ_a p_a f_a(x) with f_a the
// mean loss over agent a's rows plus the regulariser, ‖∇f(x)‖², training accuracy, and test
// loss/accuracy over the test rows (each rank evaluates its slice; sums are allreduced).
#include "distopt/core/types.hpp"
#include "distopt/io/metrics.hpp"

namespace distopt {

struct RunContext;

struct Evaluation {
  double loss = 0;
  double grad_norm_sq = 0;
  double train_accuracy = -1;  // -1 for regression
  bool has_test = false;
  double test_loss = 0;
  double test_accuracy = -1;
  void write(MetricRow& row) const;
};

class Evaluator {
 public:
  explicit Evaluator(RunContext& ctx);
  /// Collective. x must be identical on every rank.
  Evaluation evaluate(const Vector& x);
  /// Collective: ∇f(x) (exact, full data), identical on every rank up to reduction order.
  void full_gradient(const Vector& x, Vector& g);

 private:
  RunContext& ctx_;
  Vector buf_, g_;
};

}  // namespace distopt
