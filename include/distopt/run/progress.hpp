#pragma once
// Progress printers (rank 0 only): a readable table, or one JSON object per line (--log-format).
#include <cstdio>
#include <string>
#include <vector>

#include "distopt/method/trainer.hpp"

namespace distopt {

class TablePrinter : public TrainerCallback {
 public:
  TablePrinter(std::FILE* out, bool active) : out_(out), active_(active) {}
  void on_evaluation(const MetricRow& row) override;
  void on_message(const std::string& text) override;

 private:
  std::FILE* out_;
  bool active_;
  bool header_done_ = false;
  std::vector<std::string> columns_;
};

class JsonLinesPrinter : public TrainerCallback {
 public:
  JsonLinesPrinter(std::FILE* out, bool active) : out_(out), active_(active) {}
  void on_evaluation(const MetricRow& row) override;
  void on_message(const std::string& text) override;

 private:
  std::FILE* out_;
  bool active_;
};

/// JSON number text for a double (null for NaN/inf; integers without a fraction).
std::string json_number(double v);
std::string json_string(const std::string& s);

}  // namespace distopt
