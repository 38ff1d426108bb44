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

/// Why a run ended.
enum class Termination {
  kBudget,    ///< --rounds (or --time) used up
  kTarget,    ///< the target metric was reached
  kSignal,    ///< SIGTERM/SIGINT: a checkpoint was written
  kCallback,  ///< a callback asked to stop (early stopping, a custom target)
};
/// "budget", "target", "signal", "callback" (what result files record).
const char* to_string(Termination t);

/// What a callback sees at an evaluation point (on every rank).
struct EvaluationPoint {
  std::int64_t round = 0;      ///< rounds done so far (0: the initial point)
  const MetricRow& row;        ///< the metrics just recorded
  const Vector& model;         ///< the model evaluated (identical on every rank)
  const Algorithm& algorithm;  ///< the method, e.g. for its name or extra state
};

/// Observes a run and may end it (ensmallen style). Called on every rank; printers act on rank 0.
class TrainerCallback {
 public:
  virtual ~TrainerCallback() = default;
  /// Every evaluation point: the metrics row.
  virtual void on_evaluation(const MetricRow& /*row*/) {}
  /// Every evaluation point, after on_evaluation: return true to end the run after this round
  /// (Termination::kCallback). Ranks vote at the end of the round, so a stop asked on any rank
  /// ends the run on every rank after the same round; a stop asked at the initial evaluation
  /// (round 0) ends the run after round 1. No checkpoint is written.
  virtual bool should_stop(const EvaluationPoint& /*point*/) { return false; }
  /// A line of text for the user (resumed from, done, ...).
  virtual void on_message(const std::string& /*text*/) {}
};

/// The end of a run (Ceres style).
struct Summary {
  std::int64_t rounds_done = 0;
  Termination termination = Termination::kBudget;
  std::optional<std::int64_t> target_round;   ///< first evaluation round that met the target
  std::optional<double> target_wall_time;
  double wall_time = 0;
  MetricRow final_row;                        ///< the last evaluation
  std::string checkpoint_written;             ///< path, if any
};

class Trainer {
 public:
  Trainer(RunContext& ctx, Algorithm& algorithm, TrainerOptions options);
  void add_callback(TrainerCallback* cb) { callbacks_.push_back(cb); }
  /// Collective. Initialises the method with the initial model (TrainerOptions::initial_model or
  /// the objective's initial point) and loads the checkpoint `path`: the trainer's round, wall
  /// clock, metric log and traffic counters and the method's state, so that run() continues
  /// exactly where the interrupted run stopped. run() calls it itself when
  /// TrainerOptions::resume_path is set. Bad files are InputErrors agreed across ranks.
  void restore(const std::string& path);
  /// Collective. Runs to the budget, the target, a callback's stop or a stop signal (SIGTERM/
  /// SIGINT, agreed across ranks at the end of a round: then a checkpoint is written).
  Summary run();
  const MetricLog& log() const { return log_; }

 private:
  void initialize();
  MetricRow evaluate(std::int64_t round, double wall);
  void checkpoint(std::int64_t round, double wall, const std::string& path);

  RunContext& ctx_;
  Algorithm& algo_;
  TrainerOptions opt_;
  Evaluator evaluator_;
  MetricLog log_;
  std::vector<TrainerCallback*> callbacks_;
  bool initialized_ = false;
  bool restored_ = false;
  std::int64_t start_round_ = 0;
  double wall_offset_ = 0;
};

/// Installs SIGTERM/SIGINT handlers that only set a flag (checked by the Trainer).
void install_stop_signal_handlers();
bool stop_requested();
void clear_stop_request();

}  // namespace distopt
