#pragma once
// Simulated compute cost of gradients, for wall-clock experiments on machines where the test
// problems are too small to cost anything:
//   --grad-cost S        every gradient takes at least S seconds (the rest is slept)
//   --slow-rank R:F      on rank R every gradient takes F times as long (a straggler)
// Sleeping (not spinning) keeps oversubscribed ranks from stealing each other's cores.

namespace distopt {

/// Typed options of the simulated gradient cost (Ceres style: defaults are the command line's).
struct GradientCostOptions {
  /// --grad-cost: simulated seconds of compute per gradient (>= 0; the rest of it is slept).
  double grad_cost = 0;
  /// --slow-rank `<rank>:<factor>`, rank part: the straggler rank, −1 for none (default).
  int slow_rank = -1;
  /// --slow-rank `<rank>:<factor>`, factor part: how many times slower its gradients are (>= 1;
  /// default 1).
  double slow_factor = 1;
  /// Throws ConfigError("grad-cost" / "slow-rank") on values out of range (the rank is checked
  /// against the rank count by GradientCost).
  void validate() const;
};

/// The simulated gradient cost on this rank (see above).
class GradientCost {
 public:
  GradientCost() = default;
  /// Validates `options` (and that slow_rank < world_size); throws ConfigError naming the option.
  GradientCost(const GradientCostOptions& options, int my_rank, int world_size);
  /// Called after a gradient that took `measured` seconds: sleeps so that it took
  /// max(measured, cost) * factor in total.
  void after_gradient(double measured) const;
  bool active() const { return cost_ > 0 || factor_ != 1.0; }  ///< anything is simulated here
  double factor() const { return factor_; }  ///< this rank's slow-down factor (1 unless slow)
  /// The rank named by --slow-rank (−1 if none) and its slow-down factor (1 if none).
  int slow_rank() const { return slow_rank_; }
  double slow_factor() const { return slow_factor_; }  ///< the --slow-rank factor (1 if none)

 private:
  double cost_ = 0;
  double factor_ = 1;
  int slow_rank_ = -1;
  double slow_factor_ = 1;
};

}  // namespace distopt
