#pragma once
// Progress printers (rank 0 only): a readable table, or one JSON object per line (--log-format).
#include <cstdio>
#include <string>
#include <vector>

#include "distopt/method/trainer.hpp"

namespace distopt {

/// Prints the headline metrics (round, loss, grad_norm_sq, test_accuracy, dist_to_opt,
/// consensus, grad_evals, bytes_logical, wall_time: those the first row has) as a table, and
/// messages as lines (--log-format table).
class TablePrinter : public TrainerCallback {
 public:
  /// Writes to `out` (not owned) when `active` (rank 0); otherwise prints nothing.
  TablePrinter(std::FILE* out, bool active) : out_(out), active_(active) {}
  void on_evaluation(const MetricRow& row) override;
  void on_message(const std::string& text) override;

 private:
  std::FILE* out_;
  bool active_;
  bool header_done_ = false;
  std::vector<std::string> columns_;
};

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
