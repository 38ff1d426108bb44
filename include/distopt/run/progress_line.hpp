#pragma once
// The progress line (rank 0, on a terminal): between evaluations, one line with the round, the
// rate, the time left and the last value of the headline metric, rewritten in place.
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>

#include "distopt/method/trainer.hpp"

namespace distopt {

/// --progress: when the progress line is shown.
enum class ProgressMode {
  kAuto,    ///< when the stream is a terminal (isatty), never in a file or a pipe (default)
  kNever,   ///< never
  kAlways,  ///< always (even into a file: tests, terminals isatty() does not recognise)
};
/// "auto", "never", "always" -> ProgressMode; ConfigError("progress", ...) otherwise.
ProgressMode progress_mode_from_string(const std::string& s);

/// A one-line progress indicator: `round 120/1000  35.2 rounds/s  ETA 25s  loss 1.2345e-01`,
/// written with a leading carriage return (CR) over the previous one and erased (spaces, then CR)
/// before the next table row or message, so logs show only the table. Redrawn at most once per
/// `min_interval` seconds and never in a round that printed a table row. Add it to the Trainer
/// before the TablePrinter writing to the same stream: callbacks run in the order added, so the
/// line is erased before the row is printed. Only acts on rank 0 (`active`), and never
/// communicates.
class ProgressLine : public TrainerCallback {
 public:
  /// Writes to `out` (not owned) when `active`. `total_rounds`: the budget (--rounds);
  /// `metric`: the headline metric shown (the target metric's name, else "loss").
  ProgressLine(std::FILE* out, bool active, std::int64_t total_rounds, std::string metric,
               double min_interval = 0.25);
  /// Erases a line still shown (an exception ended the run).
  ~ProgressLine() override;
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  void on_evaluation(const MetricRow& row) override;
  void on_message(const std::string& text) override;
  void on_round_end(std::int64_t round, double wall_time) override;
  /// Erases the line if one is shown (then the cursor is at the start of an empty line).
  void clear();
  /// The text of the line after `round` at `wall_time` (no CR; empty before a rate is known).
  std::string text(std::int64_t round, double wall_time) const;

  /// Whether --progress `mode` shows the line on `out`: kAuto iff isatty(fileno(out)).
  static bool enabled(ProgressMode mode, std::FILE* out);

 private:
  std::FILE* out_;
  bool active_;
  std::int64_t total_;
  std::string metric_;
  double min_interval_;
  // The rate is measured from the first round (or evaluation) this run saw: rounds done after a
  // resume count from the resumed round.
  std::int64_t ref_round_ = -1;
  double ref_wall_ = 0;
  std::int64_t evaluated_round_ = -1;
  double last_value_ = std::numeric_limits<double>::quiet_NaN();
  double last_draw_ = -std::numeric_limits<double>::infinity();
  std::size_t shown_ = 0;  // characters of the line on screen (0: none)
};

}  // namespace distopt
