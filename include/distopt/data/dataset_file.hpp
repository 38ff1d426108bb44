#pragma once
// The dataset file format of DESIGN.md (schema_version 1), written by `distopt data` and by
// users with h5py:
//   /train/X      N x d float32 or float64, row-major, chunked by rows; or a CSR group with
//                 data (values), indices (0-based columns, increasing within a row), indptr
//                 (N+1 offsets) and attribute shape = [N, d]
//   /train/y      N labels: 0..C-1 (multiclass), -1/+1 (binary) or reals (regression)
//   /train/owner  optional, N agent ids: a stored partition (--partition natural)
//   /test/X, /test/y   optional, same layout
//   attributes of /: task ("regression" | "binary" | "multiclass"), n_features, n_classes,
//                    schema_version
// Opening validates the structure (required datasets, shapes against the attributes, CSR
// offsets); reading labels validates them against the task. Every problem is a FileError naming
// the dataset or attribute. Rows are read by list, so each rank reads only its own rows.
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "distopt/data/dataset.hpp"
#include "distopt/io/hdf5.hpp"

namespace distopt {

/// The schema_version this build reads and writes; a file with another one is a FileError.
inline constexpr std::int64_t kDatasetSchemaVersion = 1;

/// A dataset file opened read-only, with its structure validated; rows are read on demand.
class DatasetFile {
 public:
  /// Opens and validates `path` (schema_version, task, n_features >= 1, n_classes fitting the
  /// task, /train, optional /test and /train/owner). FileError naming what is wrong. Sizes in
  /// the file (n_features, rows, CSR offsets, the rows read later) are checked against the
  /// memory budget `max_memory` (memory_budget.hpp; 0: the default) before allocating.
  explicit DatasetFile(const std::string& path, std::uint64_t max_memory = 0);

  /// The path the file was opened from.
  const std::string& path() const { return path_; }
  /// The task attribute.
  Task task() const { return task_; }
  /// The n_features attribute (columns of X).
  Index n_features() const { return n_features_; }
  /// The n_classes attribute (1 for regression, 2 for binary).
  Index n_classes() const { return n_classes_; }
  /// Whether /train/X is stored as a CSR group.
  bool sparse() const { return train_.sparse; }
  /// Rows of a split (0 for a file without /test).
  Index rows(Split s) const { return part(s).rows; }
  /// Whether the file has a /test split.
  bool has_test() const { return test_.present; }
  /// Whether the file stores a partition (/train/owner).
  bool has_owner() const { return has_owner_; }
  /// Element type of the stored features (kFloat32 or kFloat64).
  h5::Type storage(Split s = Split::kTrain) const { return part(s).type; }

  /// All labels of a split, checked against the task.
  Vector labels(Split s) const;
  /// The stored partition (/train/owner); FileError if absent, negative, not numeric or, for a
  /// float dataset, not integral (integral floats are accepted).
  std::vector<Index> owner() const;
  /// The listed rows (strictly increasing) of a split, features as double. An empty list of a
  /// missing /test gives an empty dataset; a non-empty one is a FileError, so is a NaN or
  /// infinite feature or label (naming the row and column) and rows over the memory budget.
  Dataset read(Split s, std::span<const Index> rows) const;
  /// Every row of a split (empty for a missing /test).
  Dataset read_all(Split s) const;
  /// Root attributes other than the four of the format (provenance written by `distopt data`).
  std::map<std::string, std::string> extra_attributes() const;

 private:
  struct Part {
    bool present = false;
    bool sparse = false;
    Index rows = 0;
    h5::Type type = h5::Type::kFloat64;
    h5::Array X, data, indices, y;
    std::vector<std::int64_t> indptr;
  };
  const Part& part(Split s) const { return s == Split::kTrain ? train_ : test_; }
  Part open_part(const std::string& group);
  void check_rows(const std::string& xname, Index rows) const;
  [[noreturn]] void bad_value(const std::string& xname, Index row, Index col, double v) const;
  std::string path_;
  h5::File file_;
  std::uint64_t max_memory_ = 0;
  Task task_ = Task::kRegression;
  Index n_features_ = 0;
  Index n_classes_ = 1;
  bool has_owner_ = false;
  Part train_, test_;
};

/// How `write_dataset_file` stores features.
struct DatasetFileOptions {
  h5::Type storage = h5::Type::kFloat64;            ///< element type of X: kFloat64 or kFloat32
  h5::Layout layout{};                              ///< chunk rows and gzip level
  std::map<std::string, std::string> attributes{};  ///< extra root attributes (provenance)
};

/// Writes `train` (and `test` if it has rows, and `owner` if not empty) in the format above, to
/// path.tmp renamed to path when complete. Dense datasets are written in blocks of rows.
void write_dataset_file(const std::string& path, const Dataset& train, const Dataset& test,
                        std::span<const Index> owner, const DatasetFileOptions& options = {});

}  // namespace distopt
