#pragma once
// Metrics at evaluation points: a row of named values per evaluation, and the log of all rows
// (one column per metric name, in first-seen order) that becomes /metrics/<name> in result files.
#include <string>
#include <utility>
#include <vector>

namespace distopt {

/// The metrics of one evaluation point: (name, value) pairs in the order first set.
class MetricRow {
 public:
  /// Sets metric `name` to `value`, replacing an earlier value of the same name.
  void set(const std::string& name, double value);
  /// The value of metric `name`; NaN if absent.
  double get(const std::string& name) const;
  /// Whether metric `name` has been set.
  bool has(const std::string& name) const;
  /// Every (name, value) pair, in the order the names were first set.
  const std::vector<std::pair<std::string, double>>& items() const { return items_; }

 private:
  std::vector<std::pair<std::string, double>> items_;
};

/// The metric rows of a run as columns, one per metric name (first-seen order).
class MetricLog {
 public:
  /// Appends a row; a new name adds a column, NaN in the earlier rows, and a name the row lacks
  /// gets NaN.
  void append(const MetricRow& row);
  /// Number of rows appended (or restored).
  std::size_t rows() const { return rows_; }
  /// Metric names in first-seen order; column(name) exists for each.
  const std::vector<std::string>& names() const { return names_; }
  /// Column of a metric (NaN where a row lacked it), rows() long; Error if no row had it.
  const std::vector<double>& column(const std::string& name) const;
  /// Restores a log (resume): columns by name, all the same length.
  void restore(const std::vector<std::string>& names, const std::vector<std::vector<double>>& cols);

 private:
  std::vector<std::string> names_;
  std::vector<std::vector<double>> columns_;
  std::size_t rows_ = 0;
};

}  // namespace distopt
