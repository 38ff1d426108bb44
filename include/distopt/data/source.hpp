#pragma once
// Where data comes from, behind one interface: a table of training (and maybe test) rows that
// can be read by row list. The --data spec strings (option "data"):
//   fmnist[:DIR][:classes=A,B,...][:normalize]
//                                    Fashion-MNIST IDX files (default /usr/share/datasets/
//                                    fashion-mnist), 784 features scaled to [0, 1], 10 classes;
//                                    classes= keeps the rows of those classes in file order,
//                                    relabelled by list position (two: binary ±1, first −1;
//                                    class_filter.hpp), in the train and the test split;
//                                    normalize standardises every pixel as torchvision's
//                                    Normalize((0.2860,), (0.3530,)): (x/255 − 0.2860)/0.3530
//   libsvm:FILE[,test=FILE][,task=regression|binary|multiclass][,features=N]
//                                    LIBSVM text, sparse rows (label rule in libsvm.hpp)
//   synthetic:KIND[:k=v,...]         generated rows (synthetic.hpp)
//   FILE (or h5:FILE)                a dataset file in the DESIGN.md format (dataset_file.hpp),
//                                    read row by row: only the requested rows leave the disk
// The kinds come from one table, source_registry(), which user code can extend.
// IDX and LIBSVM files are parsed whole by every reader (they cannot be read by row); features
// are converted to double (or float, --precision float32) only for the rows requested, and the
// parsed file is freed when load_data returns.
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "distopt/core/registry.hpp"
#include "distopt/data/dataset.hpp"

namespace distopt {

/// A table of training (and maybe test) rows readable by row list (see the file comment). In a
/// run, every rank opens its own source (load_data) and reads only its rows.
class DataSource {
 public:
  virtual ~DataSource() = default;
  /// What the data are (the spec with defaults filled in), for result files.
  virtual std::string describe() const = 0;
  /// What the labels mean.
  virtual Task task() const = 0;
  /// Number of features d of every row.
  virtual Index n_features() const = 0;
  /// Number of classes (1 for regression, 2 for binary).
  virtual Index n_classes() const = 0;
  /// Whether read() returns CSR datasets (default: dense).
  virtual bool sparse() const { return false; }
  /// Rows of a split; 0 test rows means the data bring no test set.
  virtual Index rows(Split s) const = 0;
  /// All labels of a split.
  virtual Vector labels(Split s) const = 0;
  /// The data's own agent of every training row (empty if none).
  virtual std::vector<Index> natural_owner() const { return {}; }
  /// The listed rows (strictly increasing) of a split.
  virtual Dataset read(Split s, std::span<const Index> rows) const = 0;
  /// The listed rows of a split in list order (any order, no repeats), with dense features in
  /// precision `p` (CSR stays float64): what load_data reads. The default sorts the list, calls
  /// read(), puts the rows in list order and converts, so it briefly holds the rows twice;
  /// sources that can do better (Fashion-MNIST: straight into the final order and precision)
  /// override it.
  virtual Dataset read_rows(Split s, std::span<const Index> rows, Precision p) const;
  /// Every row of a split: read() with the list 0..rows(s)-1.
  Dataset read_all(Split s) const;
};

/// Defaults a source takes from the run (load_data fills them from its DataSpec and placement).
struct SourceOptions {
  /// Seed of synthetic data when the spec sets no seed= (the run's --seed).
  std::uint64_t seed = 0;
  /// Synthetic data's default test= share of held-out rows (the run's --test-fraction).
  double test_fraction = 0.2;
  /// synthetic:fedprox's default clients= (the run's --agents); 0: the generator's own default.
  Index agents = 0;
  /// --max-memory: bound of the sizes read from files (memory_budget.hpp); 0: the default.
  std::uint64_t max_memory = 0;
};

/// What a data source factory receives: the --data spec split at its first ':' and the run's
/// defaults.
struct SourceArgs {
  std::string spec;         ///< the whole spec, "libsvm:a9a,test=a9a.t"
  std::string arg;          ///< the part after the first ':', "a9a,test=a9a.t" (empty without one)
  bool has_arg = false;     ///< whether the spec has a ':' (true for a bare FILE, arg = FILE)
  SourceOptions options{};  ///< defaults taken from the run
};

/// Opens a source; ConfigError("data", ...) for a bad spec, FileError for a bad file.
using SourceFactory = std::function<std::unique_ptr<DataSource>(const SourceArgs&)>;
/// The registry type of --data.
using SourceRegistry = Registry<SourceFactory>;

/// The --data registry: fmnist, libsvm, synthetic, h5 (in that order), then the entries user code
/// added. A spec whose head (the part before the first ':') names no entry is a dataset file path
/// and goes to the h5 entry whole; "hdf5:FILE" is an alias of "h5:FILE".
SourceRegistry& source_registry();

/// Opens the source named by `data` (looked up in source_registry()); ConfigError("data", ...)
/// for an empty or bad spec, FileError for a missing or malformed file.
std::unique_ptr<DataSource> open_source(const std::string& data, const SourceOptions& options = {});

}  // namespace distopt
