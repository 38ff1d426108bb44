#pragma once
// A subset of the classes of a labelled source, in a chosen order: the rows whose label is in
// the list are kept (in file order, so a contiguous split still cuts the file into chunks) and
// relabelled by their class's position in the list. Two classes make a binary task with the
// project's ±1 convention (first class −1, second +1, as libsvm's smaller label and
// --reweight-classes' first class); three or more stay multiclass with labels 0..C−1. Used by
// fmnist:classes=A,B,...; the list order, not the numeric order, decides the labels, so
// classes=6,0 and classes=0,6 are the same rows with opposite signs.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "distopt/core/types.hpp"
#include "distopt/data/dataset.hpp"

namespace distopt {

/// The kept classes and their new labels (see the file comment).
class ClassFilter {
 public:
  /// Parses "A,B,..." (the value of classes=), each an integer in 0..n_classes−1, at least two,
  /// no repeats. ConfigError(option, what + ": classes=LIST: ...") naming the bad entry.
  ClassFilter(const std::string& option, const std::string& what, const std::string& list,
              int n_classes);

  /// The original classes in the order given.
  const std::vector<int>& classes() const { return classes_; }
  /// Number of kept classes C.
  Index size() const { return static_cast<Index>(classes_.size()); }
  /// kBinary for two classes, else kMulticlass.
  Task task() const { return classes_.size() == 2 ? Task::kBinary : Task::kMulticlass; }
  /// Whether rows of the original class `raw` are kept.
  bool keeps(int raw) const { return position(raw) >= 0; }
  /// The new label of the original class `raw` (kept): ±1 when binary, its position otherwise.
  double label(int raw) const;
  /// The rows (increasing) whose original label is kept.
  std::vector<Index> kept_rows(std::span<const std::uint8_t> labels) const;
  /// "A,B,..." as given (for describe()).
  std::string text() const;

 private:
  int position(int raw) const;
  std::vector<int> classes_;
  std::vector<int> position_;  // position_[raw] = index in classes_, or -1
};

}  // namespace distopt
