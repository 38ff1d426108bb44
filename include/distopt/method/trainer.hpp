#pragma once
// The Trainer drives a method round after round (Ceres style: Options with documented defaults and
// validation, a Summary at the end, callbacks for progress so algorithms never print).
#include <functional>
#include <map>
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
  std::string name;  ///< the metric's column name, e.g. "loss", "test_accuracy"
  bool less = true;  ///< true: reached when metric < value; false: when metric > value
  double value = 0;  ///< the threshold
  /// True if the row has the metric and it is strictly past the threshold.
  bool reached(const MetricRow& row) const;
  /// Parses `NAME<VALUE` or `NAME>VALUE`; ConfigError("target-metric", ...) otherwise.
  static TargetMetric parse(const std::string& text);  // throws ConfigError("target-metric", ...)
  /// The text parse() reads, e.g. `loss<0.01`.
  std::string str() const;
};

/// The Trainer's options (command line: run/trainer_config.hpp).
struct TrainerOptions {
  /// --rounds: budget of rounds/iterations (or virtual time units), >= 0; default 100 (--time T
  /// sets it to ⌈T⌉).
  std::int64_t rounds = 100;
  /// --eval-every: evaluate every this many rounds (and at the end), >= 1; default 1.
  std::int64_t eval_every = 1;
  std::optional<TargetMetric> target;  ///< --target-metric: stop once reached; default none
  std::int64_t checkpoint_every = 0;   ///< --checkpoint-every: 0 = never (default)
  /// --checkpoint: where checkpoints are written; run_experiment defaults an empty path to
  /// `<output without .h5>.ckpt.h5`.
  std::string checkpoint_path;
  std::string resume_path;              ///< --resume: checkpoint to continue from; empty: fresh run
  std::optional<Vector> initial_model;  ///< --init (else the objective's initial point)
  /// Options that determine the trajectory (name -> value as given), stored in every checkpoint
  /// under `/state/fingerprint/NAME`, so that a resume with other values can be refused
  /// (run_experiment compares them with checkpoint_fingerprint() before any work).
  std::map<std::string, std::string> fingerprint;
};

/// The fingerprint stored in checkpoint `path` (empty for a checkpoint written before
/// fingerprints existed). FileError if the file is not a readable checkpoint.
std::map<std::string, std::string> checkpoint_fingerprint(const std::string& path);

/// Why a run ended.
enum class Termination {
  kBudget,    ///< --rounds (or --time) used up
  kTarget,    ///< the target metric was reached
  kSignal,    ///< SIGTERM/SIGINT: a checkpoint was written
  kCallback,  ///< a callback asked to stop (early stopping, a custom target)
  kDiverged,  ///< the loss of an evaluation became NaN or infinite (no checkpoint is written)
};
/// "budget", "target", "signal", "callback", "diverged" (what result files record).
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
  /// After every round on every rank: `round` just finished (its evaluation, if it had one, is
  /// done and on_evaluation seen), `wall_time` is the run's wall clock in seconds (as in the
  /// rows' "wall_time"). Must not communicate: ranks may differ in how often they act on it (a
  /// progress display acts on rank 0 only). Reading the clock changes no result.
  virtual void on_round_end(std::int64_t /*round*/, double /*wall_time*/) {}
  /// Once per run(), on every rank, before any training round and before on_evaluation: the
  /// first row of metric names this run produces (the round-0 evaluation; for a resumed run, the
  /// last restored row). Throw an InputError (a ConfigError naming the option) to reject names
  /// the run does not produce (--show, --target-metric): the Trainer agrees on the error across
  /// ranks, so every rank throws the same CollectiveInputError and the job exits with code 2.
  virtual void check_metric_names(const MetricRow& /*row*/) {}
};

/// The end of a run (Ceres style).
struct Summary {
  /// The round the run stopped after (rounds before a resume included).
  std::int64_t rounds_done = 0;
  Termination termination = Termination::kBudget;  ///< why the run ended
  std::optional<std::int64_t> target_round;        ///< first evaluation round that met the target
  std::optional<double> target_wall_time;          ///< wall_time of that evaluation (seconds)
  double wall_time = 0;            ///< seconds of the run, those before a resume included
  MetricRow final_row;             ///< the last evaluation
  std::string checkpoint_written;  ///< path, if any
};

/// Drives a method round after round: evaluation points, target, checkpoints, stop signals.
/// At an evaluation point the row holds "round", the Evaluator's metrics of model() on the
/// RunContext's objective and data ("loss", "grad_norm_sq", accuracies) or, for a method that
/// Algorithm::evaluates_itself(), its own "loss" and "grad_norm_sq", then the counters
/// ("grad_evals", bytes, messages), the method's extra_metrics() and "wall_time".
class Trainer {
 public:
  /// Runs `algorithm` on `ctx` (both kept by reference) with `options` (not validated here:
  /// trainer_options_from validates the command line's).
  Trainer(RunContext& ctx, Algorithm& algorithm, TrainerOptions options);
  /// Adds an observer (not owned; must outlive run()). Called in the order added.
  void add_callback(TrainerCallback* cb) { callbacks_.push_back(cb); }
  /// Collective. Initialises the method with the initial model (TrainerOptions::initial_model or
  /// the objective's initial point) and loads the checkpoint `path`: the trainer's round, wall
  /// clock, metric log and traffic counters and the method's state, so that run() continues
  /// exactly where the interrupted run stopped. run() calls it itself when
  /// TrainerOptions::resume_path is set. Bad files are InputErrors agreed across ranks.
  void restore(const std::string& path);
  /// Collective. Runs to the budget, the target, a callback's stop or a stop signal (SIGTERM/
  /// SIGINT, agreed across ranks at the end of a round: then a checkpoint is written). Before
  /// the first round, a --target-metric the rows do not hold is a ConfigError("target-metric")
  /// agreed across ranks (CollectiveInputError), as are the callbacks' check_metric_names().
  Summary run();
  /// Every evaluation row so far (those restored from a checkpoint included).
  const MetricLog& log() const { return log_; }

 private:
  void initialize();
  MetricRow evaluate(std::int64_t round, double wall);
  void checkpoint(std::int64_t round, double wall, const std::string& path);
  void check_metric_names(const MetricRow& row);

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
/// True once SIGTERM or SIGINT was received on this process (since clear_stop_request()).
bool stop_requested();
/// Resets the flag stop_requested() reads.
void clear_stop_request();

}  // namespace distopt
