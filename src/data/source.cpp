#include "distopt/data/source.hpp"

#include <algorithm>
#include <numeric>
#include <optional>

#include "distopt/core/error.hpp"
#include "distopt/data/class_filter.hpp"
#include "distopt/data/dataset_file.hpp"
#include "distopt/data/idx.hpp"
#include "distopt/data/libsvm.hpp"
#include "distopt/data/spec_args.hpp"
#include "distopt/data/synthetic.hpp"

namespace distopt {

Dataset DataSource::read_all(Split s) const {
  std::vector<Index> rows(static_cast<std::size_t>(this->rows(s)));
  std::iota(rows.begin(), rows.end(), Index{0});
  return read(s, rows);
}

Dataset DataSource::read_rows(Split s, std::span<const Index> rows, Precision p) const {
  if (std::is_sorted(rows.begin(), rows.end())) return read(s, rows).to_precision(p);
  std::vector<Index> sorted(rows.begin(), rows.end());
  std::sort(sorted.begin(), sorted.end());
  Dataset d = read(s, sorted);
  std::vector<Index> pos(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    pos[i] = std::lower_bound(sorted.begin(), sorted.end(), rows[i]) - sorted.begin();
  }
  // Convert first when narrowing, so that the reordered copy is the smaller one.
  if (p == Precision::kFloat32) d = std::move(d).to_precision(p);
  return d.select(pos).to_precision(p);
}

namespace {

/// Fashion-MNIST (or MNIST) IDX files, all ten classes or the rows of a ClassFilter.
class MnistSource : public DataSource {
 public:
  MnistSource(std::string dir, std::optional<ClassFilter> filter, bool normalize,
              std::uint64_t max_memory)
      : dir_(std::move(dir)),
        m_(read_mnist_like(dir_, max_memory)),
        filter_(std::move(filter)),
        normalize_(normalize) {
    if (filter_) {
      rows_[0] = filter_->kept_rows(m_.train_labels.data);
      rows_[1] = filter_->kept_rows(m_.test_labels.data);
    }
  }
  std::string describe() const override {
    return "fmnist:" + dir_ + (filter_ ? ":classes=" + filter_->text() : "") +
           (normalize_ ? ":normalize" : "");
  }
  Task task() const override { return filter_ ? filter_->task() : Task::kMulticlass; }
  Index n_features() const override { return m_.train_images.row_size(); }
  Index n_classes() const override { return filter_ ? filter_->size() : 10; }
  Index rows(Split s) const override {
    return filter_ ? static_cast<Index>(kept(s).size()) : labels_of(s).dims[0];
  }
  Vector labels(Split s) const override {
    Vector y(rows(s));
    for (Index i = 0; i < y.size(); ++i) y[i] = label(s, file_row(s, i));
    return y;
  }
  Dataset read(Split s, std::span<const Index> rows) const override {
    return read_rows(s, rows, Precision::kFloat64);
  }
  /// Any order, straight into the final precision: the pixel bytes are in memory, so each
  /// requested row is converted once into its final place (no float64 copy at float32, no
  /// reordering copy). A float32 value is the float64 value rounded to nearest.
  Dataset read_rows(Split s, std::span<const Index> rows, Precision p) const override {
    if (p == Precision::kFloat32) return fill<RowMatrixF>(s, rows);
    return fill<RowMatrix>(s, rows);
  }

 private:
  template <class M>
  Dataset fill(Split s, std::span<const Index> rows) const {
    const auto& img = s == Split::kTrain ? m_.train_images : m_.test_images;
    const Index d = img.row_size(), k = static_cast<Index>(rows.size()), n = this->rows(s);
    using S = typename M::Scalar;
    M X(k, d);
    Vector y(k);
    for (Index i = 0; i < k; ++i) {
      const Index q = rows[static_cast<std::size_t>(i)];
      if (q < 0 || q >= n) throw std::out_of_range("fmnist: row out of range");
      const Index r = file_row(s, q);
      const auto* p = img.data.data() + r * d;
      // Computed in double and rounded once, so float32 rows are the float64 rows rounded.
      if (normalize_) {
        // torchvision's Normalize((0.2860,), (0.3530,)) after ToTensor's /255.
        for (Index j = 0; j < d; ++j)
          X(i, j) = static_cast<S>((p[j] / 255.0 - kFmnistMean) / kFmnistStd);
      } else {
        for (Index j = 0; j < d; ++j) X(i, j) = static_cast<S>(p[j] / 255.0);
      }
      y[i] = label(s, r);
    }
    return Dataset(std::move(X), std::move(y), task(), n_classes());
  }

  const IdxArray& labels_of(Split s) const {
    return s == Split::kTrain ? m_.train_labels : m_.test_labels;
  }
  const std::vector<Index>& kept(Split s) const { return rows_[s == Split::kTrain ? 0 : 1]; }
  /// The file row of row q of the (filtered) split.
  Index file_row(Split s, Index q) const {
    return filter_ ? kept(s)[static_cast<std::size_t>(q)] : q;
  }
  /// The label of file row r (relabelled by the filter).
  double label(Split s, Index r) const {
    const int raw = labels_of(s).data[static_cast<std::size_t>(r)];
    return filter_ ? filter_->label(raw) : raw;
  }
  std::string dir_;
  MnistLike m_;
  std::optional<ClassFilter> filter_;
  bool normalize_;
  std::vector<Index> rows_[2];  // kept file rows of train and test (with a filter)
};

/// A dataset held in memory (LIBSVM files).
class MemorySource : public DataSource {
 public:
  MemorySource(std::string what, Dataset train, Dataset test)
      : what_(std::move(what)), train_(std::move(train)), test_(std::move(test)) {}
  std::string describe() const override { return what_; }
  Task task() const override { return train_.task(); }
  Index n_features() const override { return train_.cols(); }
  Index n_classes() const override { return train_.n_classes(); }
  bool sparse() const override { return train_.sparse(); }
  Index rows(Split s) const override { return of(s).rows(); }
  Vector labels(Split s) const override { return of(s).labels(); }
  Dataset read(Split s, std::span<const Index> rows) const override { return of(s).select(rows); }

 private:
  const Dataset& of(Split s) const { return s == Split::kTrain ? train_ : test_; }
  std::string what_;
  Dataset train_, test_;
};

class SyntheticSource : public DataSource {
 public:
  explicit SyntheticSource(std::unique_ptr<SyntheticGenerator> g) : g_(std::move(g)) {}
  std::string describe() const override { return g_->describe(); }
  Task task() const override { return g_->task(); }
  Index n_features() const override { return g_->n_features(); }
  Index n_classes() const override { return g_->n_classes(); }
  Index rows(Split s) const override { return g_->rows(s); }
  Vector labels(Split s) const override { return g_->labels(s); }
  std::vector<Index> natural_owner() const override { return g_->natural_owner(); }
  Dataset read(Split s, std::span<const Index> rows) const override {
    return g_->generate(s, rows);
  }

 private:
  std::unique_ptr<SyntheticGenerator> g_;
};

class FileSource : public DataSource {
 public:
  FileSource(const std::string& path, std::uint64_t max_memory) : f_(path, max_memory) {}
  std::string describe() const override {
    const auto extra = f_.extra_attributes();
    const auto it = extra.find("source");
    return f_.path() + (it == extra.end() ? "" : " (" + it->second + ")");
  }
  Task task() const override { return f_.task(); }
  Index n_features() const override { return f_.n_features(); }
  Index n_classes() const override { return f_.n_classes(); }
  bool sparse() const override { return f_.sparse(); }
  Index rows(Split s) const override { return f_.rows(s); }
  Vector labels(Split s) const override { return f_.labels(s); }
  std::vector<Index> natural_owner() const override {
    return f_.has_owner() ? f_.owner() : std::vector<Index>{};
  }
  Dataset read(Split s, std::span<const Index> rows) const override { return f_.read(s, rows); }

 private:
  DatasetFile f_;
};

std::unique_ptr<DataSource> open_libsvm(const std::string& rest, std::uint64_t max_memory) {
  const auto comma = rest.find(',');
  const std::string path = rest.substr(0, comma);
  if (path.empty()) throw ConfigError("data", "libsvm needs a file: libsvm:FILE");
  SpecArgs a("data", "libsvm", comma == std::string::npos ? "" : rest.substr(comma + 1));
  const auto test = a.text("test", "");
  const auto task = a.text("task", "");
  const auto features = a.integer("features", 0, 0);
  a.finish();
  std::optional<Task> forced;
  if (!task.empty()) {
    try {
      forced = task_from_string(task);
    } catch (const InputError& e) {
      a.fail(e.what());
    }
  }
  auto d = read_libsvm(path, test, forced, features, max_memory);
  return std::make_unique<MemorySource>("libsvm:" + rest, std::move(d.train), std::move(d.test));
}

/// fmnist[:DIR][:classes=A,B,...][:normalize]: the trailing ':'-separated items that are
/// "normalize" or hold an '=' are the flags and keys (in any order; a bare "fmnist:classes=0,6"
/// has no DIR), the rest is DIR. classes= is parsed by hand because its value is itself a comma
/// list, which SpecArgs' "k=v,k=v" grammar cannot hold.
std::unique_ptr<DataSource> open_fmnist(const SourceArgs& a) {
  std::string dir = a.arg, keys;
  bool normalize = false;
  while (!dir.empty()) {
    const auto colon = dir.rfind(':');
    const std::string item = colon == std::string::npos ? dir : dir.substr(colon + 1);
    if (item == "normalize") {
      normalize = true;
    } else if (item.find('=') != std::string::npos) {
      if (!keys.empty()) throw ConfigError("data", "fmnist: give one classes= list");
      keys = item;
    } else {
      break;
    }
    dir.resize(colon == std::string::npos ? 0 : colon);
  }
  std::optional<ClassFilter> filter;
  if (!keys.empty()) {
    const std::string key = keys.substr(0, keys.find('='));
    if (key != "classes") {
      throw ConfigError("data", "fmnist: unknown key '" + key + "' (known: classes, normalize)");
    }
    filter.emplace("data", "fmnist", keys.substr(key.size() + 1), 10);
  }
  return std::make_unique<MnistSource>(dir.empty() ? kFashionMnistDir : dir, std::move(filter),
                                       normalize, a.options.max_memory);
}

std::unique_ptr<DataSource> open_synthetic(const SourceArgs& a) {
  SyntheticDefaults d;
  d.seed = a.options.seed;
  d.test_fraction = a.options.test_fraction;
  d.clients = a.options.agents;
  d.max_memory = a.options.max_memory;
  return std::make_unique<SyntheticSource>(make_synthetic(a.spec, d));
}

std::unique_ptr<DataSource> open_file(const SourceArgs& a) {
  return std::make_unique<FileSource>(a.arg, a.options.max_memory);
}

}  // namespace

SourceRegistry& source_registry() {
  static SourceRegistry r = [] {
    SourceRegistry reg("data source", "data");
    reg.add({"fmnist", "fmnist[:DIR][:classes=A,B,...][:normalize]",
             std::string("Fashion-MNIST IDX files (default ") + kFashionMnistDir +
                 "); classes= keeps those classes, relabelled 0..C-1 in the order given "
                 "(two classes: binary, first -1, second +1); normalize standardises pixels "
                 "(x/255 - 0.2860)/0.3530 as torchvision pipelines",
             open_fmnist});
    reg.add({"libsvm", "libsvm:FILE[,test=FILE,task=...,features=N]", "LIBSVM text file",
             [](const SourceArgs& a) { return open_libsvm(a.arg, a.options.max_memory); }});
    reg.add({"synthetic", "synthetic:<kind>[:key=value,...]",
             "generated rows (kinds: synthetic_registry())", open_synthetic});
    reg.add({"h5", "[h5:]FILE", "dataset file (DESIGN.md format), read row by row", open_file});
    return reg;
  }();
  return r;
}

std::unique_ptr<DataSource> open_source(const std::string& data, const SourceOptions& options) {
  const auto& reg = source_registry();
  if (data.empty()) throw ConfigError("data", "is required (known: " + reg.known() + ")");
  auto parts = split_spec(data);
  if (parts.kind == "hdf5") parts.kind = "h5";
  SourceArgs args;
  args.options = options;
  const auto* entry = reg.find(parts.kind);
  if (entry) {
    args.spec = data;
    args.arg = parts.arg;
    args.has_arg = parts.has_arg;
  } else {
    // Not a known kind: a dataset file path (which may hold a ':').
    entry = &reg.get("h5");
    args.spec = data;
    args.arg = data;
    args.has_arg = true;
  }
  return entry->make(args);
}

}  // namespace distopt
