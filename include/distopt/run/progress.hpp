#pragma once
// Progress printers (rank 0 only): a readable table, or one JSON object per line (--log-format).
#include <cstdio>
#include <string>
#include <vector>

#include "distopt/method/trainer.hpp"

namespace distopt {

/// Prints the headline metrics of each evaluation as a table, and messages as lines
/// (--log-format table). The default columns are those of round, loss, grad_norm_sq,
/// test_accuracy, dist_to_opt, consensus, bytes_logical, wall_time that the first row has, the
/// least important dropped (consensus, then grad_norm_sq, dist_to_opt, test_accuracy) until a
/// line fits in 80 characters; `show` (--show) appends any other metric of the rows, in its order.
/// Everything is in the result file and the JSON stream anyway.
class TablePrinter : public TrainerCallback {
 public:
  /// The width a table line of the default columns never exceeds (rounds below 10^6).
  static constexpr int kDefaultWidth = 80;
  /// Writes to `out` (not owned) when `active` (rank 0); otherwise prints nothing. `show`: extra
  /// metric names, checked on every rank (check_metric_names) whether active or not.
  TablePrinter(std::FILE* out, bool active, std::vector<std::string> show = {})
      : out_(out), active_(active), show_(std::move(show)) {}
  /// ConfigError("show", ...) naming the first --show name the row lacks and listing the row's.
  void check_metric_names(const MetricRow& row) override;
  void on_evaluation(const MetricRow& row) override;
  void on_message(const std::string& text) override;
  /// The columns a table of rows like `row` shows with extra names `show` (the header's order).
  static std::vector<std::string> columns_for(const MetricRow& row,
                                              const std::vector<std::string>& show);

 private:
  std::FILE* out_;
  bool active_;
  std::vector<std::string> show_;
  bool header_done_ = false;
  std::vector<std::string> columns_;
};

/// The names of a comma-separated list (--show a,b): blanks around names and empty entries
/// dropped.
std::vector<std::string> split_names(const std::string& list);

/// Prints every metric of each evaluation as one JSON object per line, and messages as
/// {"message": ...} lines (--log-format json).
class JsonLinesPrinter : public TrainerCallback {
 public:
  /// Writes to `out` (not owned) when `active` (rank 0); otherwise prints nothing.
  JsonLinesPrinter(std::FILE* out, bool active) : out_(out), active_(active) {}
  void on_evaluation(const MetricRow& row) override;
  void on_message(const std::string& text) override;

 private:
  std::FILE* out_;
  bool active_;
};

/// JSON number text for a double (null for NaN/inf; integers without a fraction).
std::string json_number(double v);
/// s as a quoted JSON string (quotes, backslashes and control characters escaped).
std::string json_string(const std::string& s);

}  // namespace distopt
