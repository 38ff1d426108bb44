#include "distopt/data/source.hpp"

#include <algorithm>
#include <numeric>

#include "distopt/core/error.hpp"
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

namespace {

class MnistSource : public DataSource {
 public:
  explicit MnistSource(std::string dir) : dir_(std::move(dir)), m_(read_mnist_like(dir_)) {}
  std::string describe() const override { return "fmnist:" + dir_; }
  Task task() const override { return Task::kMulticlass; }
  Index n_features() const override { return m_.train_images.row_size(); }
  Index n_classes() const override { return 10; }
  Index rows(Split s) const override { return labels_of(s).dims[0]; }
  Vector labels(Split s) const override {
    const auto& l = labels_of(s);
    Vector y(l.dims[0]);
    for (Index i = 0; i < y.size(); ++i) y[i] = l.data[static_cast<std::size_t>(i)];
    return y;
  }
  Dataset read(Split s, std::span<const Index> rows) const override {
    const auto& img = s == Split::kTrain ? m_.train_images : m_.test_images;
    const auto& lab = labels_of(s);
    const Index d = img.row_size(), k = static_cast<Index>(rows.size());
    RowMatrix X(k, d);
    Vector y(k);
    for (Index i = 0; i < k; ++i) {
      const Index r = rows[static_cast<std::size_t>(i)];
      if (r < 0 || r >= lab.dims[0]) throw std::out_of_range("fmnist: row out of range");
      const auto* p = img.data.data() + r * d;
      for (Index j = 0; j < d; ++j) X(i, j) = p[j] / 255.0;
      y[i] = lab.data[static_cast<std::size_t>(r)];
    }
    return Dataset(std::move(X), std::move(y), Task::kMulticlass, 10);
  }

 private:
  const IdxArray& labels_of(Split s) const {
    return s == Split::kTrain ? m_.train_labels : m_.test_labels;
  }
  std::string dir_;
  MnistLike m_;
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
  explicit FileSource(const std::string& path) : f_(path) {}
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

std::unique_ptr<DataSource> open_libsvm(const std::string& rest) {
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
  auto d = read_libsvm(path, test, forced, features);
  return std::make_unique<MemorySource>("libsvm:" + rest, std::move(d.train), std::move(d.test));
}

std::unique_ptr<DataSource> open_fmnist(const SourceArgs& a) {
  return std::make_unique<MnistSource>(a.arg.empty() ? kFashionMnistDir : a.arg);
}

std::unique_ptr<DataSource> open_synthetic(const SourceArgs& a) {
  SyntheticDefaults d;
  d.seed = a.options.seed;
  d.test_fraction = a.options.test_fraction;
  d.clients = a.options.agents;
  return std::make_unique<SyntheticSource>(make_synthetic(a.spec, d));
}

std::unique_ptr<DataSource> open_file(const SourceArgs& a) {
  return std::make_unique<FileSource>(a.arg);
}

}  // namespace

SourceRegistry& source_registry() {
  static SourceRegistry r = [] {
    SourceRegistry reg("data source", "data");
    reg.add({"fmnist", "fmnist[:DIR]",
             std::string("Fashion-MNIST IDX files (default ") + kFashionMnistDir + ")",
             open_fmnist});
    reg.add({"libsvm", "libsvm:FILE[,test=FILE,task=...,features=N]", "LIBSVM text file",
             [](const SourceArgs& a) { return open_libsvm(a.arg); }});
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
