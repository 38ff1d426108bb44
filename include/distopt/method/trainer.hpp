#pragma once
// The Trainer drives a method round after round (Ceres style: Options with documented defaults and
// validation, a Summary at the end, callbacks for progress so algorithms never print).
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "distopt/io/metrics.hpp"
#include "distopt/method/algorithm.hpp"
#include "distopt/method/evaluator.hpp"

namespace distopt {

/// "name<value" or "name>value": stop when the metric crosses the value.
struct TargetMetric {
  std::string name;
  bool less = true;
  double value = 0;
  bool reached(const MetricRow& row) const;
  static TargetMetric parse(const std::string& text);  // throws ConfigError("target-metric", ...)
  std::string str() const;
};

struct TrainerOptions {
  std::int64_t rounds = 100;          // --rounds: budget of rounds/iterations (or virtual time units)
  std::int64_t eval_every = 1;        // --eval-every: evaluate every this many rounds (and at the end)
  std::optional<TargetMetric> target; // --target-metric
  std::int64_t checkpoint_every = 0;  // --checkpoint-every: 0 = never
  std::string checkpoint_path;        // --checkpoint (default: <output>.ckpt.h5)
  std::string resume_path;            // --resume
  std::optional<Vector> initial_model; // --init (else the objective's initial point)
};

/// Progress callback: called on every rank at each evaluation point (printers act on rank 0).
class TrainerCallback {
 public:
  virtual ~TrainerCallback() = default;
  virtual void on_evaluation(const MetricRow& /*row*/) {}
  virtual void on_message(const std::string& /*text*/) {}
};

struct Summary {
  std::int64_t rounds_done = 0;
  std::string termination;  // "budget", "target", "signal"
  std::optional<std::int64_t> target_round;
  std::optional<double> target_wall_time;
  double wall_time = 0;
  MetricRow final_row;
  std::string checkpoint_written;  // path, if any
};

class Trainer {
 public:
  Trainer(RunContext& ctx, Algorithm& algorithm, TrainerOptions options);
  void add_callback(TrainerCallback* cb) { callbacks_.push_back(cb); }
  /// Collective. Runs to the budget, the target or a stop signal (SIGTERM/SIGINT, agreed
  /// across ranks at the end of a round: then a checkpoint is written).
  Summary run();
  const MetricLog& log() const { return log_; }

 private:
  MetricRow evaluate(std::int64_t round, double wall);
  void checkpoint(std::int64_t round, double wall, const std::string& path);

  RunContext& ctx_;
  Algorithm& algo_;
  TrainerOptions opt_;
  Evaluator evaluator_;
  MetricLog log_;
  std::vector<TrainerCallback*> callbacks_;
};

/// Installs SIGTERM/SIGINT handlers that only set a flag (checked by the Trainer).
void install_stop_signal_handlers();
bool stop_requested();
void clear_stop_request();

}  // namespace distopt
