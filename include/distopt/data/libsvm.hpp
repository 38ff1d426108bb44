#pragma once
// Reader of LIBSVM/SVMlight text files: one sample per line, "label index:value index:value ...",
// 1-based increasing feature indices, '#' starts a comment. Files may be gzip-compressed.
//
// Labels follow one documented rule (unless a task is forced):
//   * exactly two distinct values        -> binary, the smaller one -1, the larger one +1;
//   * otherwise, all values integers     -> multiclass, distinct values in increasing order
//                                           mapped to 0..C-1 (so {1,2,3} becomes {0,1,2});
//   * otherwise                          -> regression, values kept.
// A forced task of regression keeps values; binary needs exactly two values; multiclass needs
// integer values (two values then map to 0 and 1).
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "distopt/data/dataset.hpp"

namespace distopt {

/// A parsed file before labels are interpreted.
struct LibsvmRaw {
  SparseRowMatrix X;           ///< the features; cols = largest index seen
  std::vector<double> labels;  ///< one label per row, as written
};

/// Parses the file. FileError(path, "line N: ...") on a malformed line (bad label, token
/// without ':', index < 1 or past 64 bits, non-increasing index, bad value, NaN or infinite
/// label or value), on a feature index whose model (index x 8 bytes) exceeds the memory budget
/// `max_memory` (memory_budget.hpp; 0: the default), and on nonzeros exceeding it.
LibsvmRaw parse_libsvm(const std::string& path, std::uint64_t max_memory = 0);

/// The label rule above applied to raw values.
struct LabelRule {
  Task task = Task::kRegression;  ///< the task the labels are read as
  Index n_classes = 1;            ///< 1 for regression, 2 for binary, C for multiclass
  std::vector<double> classes;    ///< distinct raw values, increasing (classification only)
  /// Maps raw labels to distopt labels (±1, 0..C-1 or unchanged).
  Vector apply(std::span<const double> raw) const;
};
/// The label rule of `raw` (the rule above, or the forced task if set). `what` names the source
/// in error messages. Throws InputError if a forced task cannot fit.
LabelRule infer_label_rule(std::span<const double> raw, std::optional<Task> forced,
                           const std::string& what);

/// One file, or a train file and a test file sharing one label rule (computed over both) and
/// one width (the larger of the two, or n_features if larger still).
struct LibsvmData {
  /// The training file's rows (CSR).
  Dataset train, test;  ///< the test file's rows (CSR); 0 rows when there is no test file
};
/// Parses `train_path` (and `test_path` unless empty) and applies one label rule to both
/// (`task` forces the task). Both get n_features columns or the largest index seen, whichever is
/// larger. FileError for a malformed file or a size over `max_memory` (parse_libsvm; also for
/// n_features), InputError for labels that do not fit a forced task.
LibsvmData read_libsvm(const std::string& train_path, const std::string& test_path = "",
                       std::optional<Task> task = std::nullopt, Index n_features = 0,
                       std::uint64_t max_memory = 0);

}  // namespace distopt
