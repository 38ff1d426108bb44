#include "distopt/data/dataset_file.hpp"

#include <algorithm>
#include <cmath>

#include "distopt/core/error.hpp"
#include "distopt/data/memory_budget.hpp"

namespace distopt {

namespace {

std::string str(Index v) { return std::to_string(v); }

}  // namespace

DatasetFile::DatasetFile(const std::string& path, std::uint64_t max_memory)
    : path_(path), file_(h5::File::open(path)), max_memory_(max_memory) {
  if (!file_.has_attr("schema_version")) {
    // Name the missing data too: a file with neither is some other HDF5 file (a result file...).
    throw FileError(path_, file_.exists("train/X")
                               ? "missing root attribute 'schema_version' (not a distopt dataset file?)"
                               : "missing dataset /train/X and root attribute 'schema_version' (not a "
                                 "distopt dataset file: see `distopt data`)");
  }
  const auto version = file_.attr_int("schema_version");
  if (version != kDatasetSchemaVersion) {
    throw FileError(path_, "schema_version " + std::to_string(version) +
                               " is not supported (this build reads " +
                               std::to_string(kDatasetSchemaVersion) + ")");
  }
  try {
    task_ = task_from_string(file_.attr_string("task"));
  } catch (const FileError&) {
    throw;
  } catch (const InputError& e) {
    throw FileError(path_, std::string("attribute 'task': ") + e.what());
  }
  n_features_ = file_.attr_int("n_features");
  n_classes_ = file_.attr_int("n_classes");
  if (n_features_ < 1) throw FileError(path_, "attribute n_features = " + str(n_features_) + " must be at least 1");
  // Sizes in the file are checked before anything of their size is allocated (the model here,
  // the per-row vectors in open_part, the rows a rank reads in read()).
  check_memory(path_, "attribute n_features = " + str(n_features_) + " (a float64 model)",
               static_cast<std::uint64_t>(n_features_), sizeof(double), max_memory_);
  const bool classes_ok = task_ == Task::kRegression ? n_classes_ == 1
                          : task_ == Task::kBinary   ? n_classes_ == 2
                                                     : n_classes_ >= 2;
  if (!classes_ok) {
    throw FileError(path_, "attribute n_classes = " + str(n_classes_) + " does not fit task '" +
                               to_string(task_) + "' (regression: 1, binary: 2, multiclass: >= 2)");
  }
  if (!file_.is_group("train")) throw FileError(path_, "missing group /train");
  train_ = open_part("/train");
  if (file_.exists("test")) test_ = open_part("/test");
  if (file_.exists("/train/owner")) {
    if (!file_.is_array("/train/owner")) throw FileError(path_, "/train/owner is not a dataset");
    const auto owner = file_.array("/train/owner");
    if (owner.rank() != 1 || owner.rows() != train_.rows) {
      throw FileError(path_, "/train/owner has " + str(owner.size()) + " entries but /train/X has " +
                                 str(train_.rows) + " rows");
    }
    has_owner_ = true;
  }
}

void DatasetFile::check_rows(const std::string& xname, Index rows) const {
  // Labels, row lists and partitions hold one 8-byte entry per row, on every rank.
  check_memory(path_,
               xname + " of " + str(rows) + " rows (8 bytes per row for labels and row lists)",
               static_cast<std::uint64_t>(rows), sizeof(double), max_memory_);
}

DatasetFile::Part DatasetFile::open_part(const std::string& group) {
  Part p;
  p.present = true;
  const std::string xname = group + "/X", yname = group + "/y";
  if (!file_.exists(xname)) throw FileError(path_, "missing dataset " + xname);
  if (file_.is_group(xname)) {
    // CSR: data, indices, indptr and a shape attribute.
    p.sparse = true;
    const auto g = file_.group(xname);
    for (const char* member : {"data", "indices", "indptr"}) {
      if (!g.is_array(member)) {
        throw FileError(path_, "sparse " + xname + " lacks dataset " + xname + "/" + member);
      }
    }
    const auto shape = g.attr_ints("shape");
    if (shape.size() != 2 || shape[0] < 0) {
      throw FileError(path_, "attribute 'shape' of " + xname + " must hold two sizes [rows, cols]");
    }
    if (shape[1] != n_features_) {
      throw FileError(path_, xname + " has " + str(shape[1]) +
                                 " columns (shape attribute) but attribute n_features = " +
                                 str(n_features_));
    }
    p.rows = shape[0];
    check_rows(xname, p.rows);
    p.data = g.array("data");
    p.indices = g.array("indices");
    p.type = p.data.type();
    const auto indptr_array = g.array("indptr");
    check_memory(path_, xname + "/indptr of " + str(indptr_array.size()) + " entries",
                 static_cast<std::uint64_t>(indptr_array.size()), sizeof(std::int64_t),
                 max_memory_);
    p.indptr = indptr_array.read_ints();
    const Index nnz = p.data.size();
    if (static_cast<Index>(p.indptr.size()) != p.rows + 1) {
      throw FileError(path_, xname + "/indptr has " + str(static_cast<Index>(p.indptr.size())) +
                                 " entries but shape says " + str(p.rows) + " rows (needs rows+1)");
    }
    if (p.indices.size() != nnz) {
      throw FileError(path_, xname + "/indices and " + xname + "/data differ in length");
    }
    if (p.indptr.front() != 0 || p.indptr.back() != nnz ||
        !std::is_sorted(p.indptr.begin(), p.indptr.end())) {
      throw FileError(path_, xname + "/indptr must rise from 0 to the length of data");
    }
  } else {
    p.X = file_.array(xname);
    p.type = p.X.type();
    if (p.X.rank() != 2) {
      throw FileError(path_, xname + " must be a 2-D matrix (it has " + str(p.X.rank()) +
                                 " dimensions)");
    }
    if (p.X.cols() != n_features_) {
      throw FileError(path_, xname + " has " + str(p.X.cols()) +
                                 " columns but attribute n_features = " + str(n_features_));
    }
    p.rows = p.X.rows();
    check_rows(xname, p.rows);
  }
  if (p.type != h5::Type::kFloat32 && p.type != h5::Type::kFloat64) {
    throw FileError(path_, "features of " + xname + " are " + h5::to_string(p.type) +
                               "; expected float32 or float64");
  }
  if (!file_.is_array(yname)) throw FileError(path_, "missing dataset " + yname);
  p.y = file_.array(yname);
  if (p.y.size() != p.rows || p.y.rows() != p.rows) {
    throw FileError(path_, yname + " has " + str(p.y.size()) + " labels but " + xname + " has " +
                               str(p.rows) + " rows");
  }
  return p;
}

Vector DatasetFile::labels(Split s) const {
  const auto& p = part(s);
  if (!p.present) return Vector(0);
  const auto raw = p.y.read_doubles();
  Vector y(static_cast<Index>(raw.size()));
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const double v = raw[i];
    bool ok = std::isfinite(v);
    if (task_ == Task::kBinary) ok = v == 1.0 || v == -1.0;
    if (task_ == Task::kMulticlass) ok = v == std::floor(v) && v >= 0 && v < static_cast<double>(n_classes_);
    if (!ok) {
      throw FileError(path_, p.y.name() + "[" + std::to_string(i) + "] = " + std::to_string(v) +
                                 " is not a valid " + to_string(task_) + " label" +
                                 (task_ == Task::kMulticlass
                                      ? " (0.." + str(n_classes_ - 1) + ")"
                                      : task_ == Task::kBinary ? " (-1 or +1)" : ""));
    }
    y[static_cast<Index>(i)] = v;
  }
  return y;
}

std::vector<Index> DatasetFile::owner() const {
  if (!has_owner_) throw FileError(path_, "missing dataset /train/owner (no stored partition)");
  const auto a = file_.array("/train/owner");
  std::vector<Index> out;
  if (a.type() == h5::Type::kFloat32 || a.type() == h5::Type::kFloat64) {
    // h5py writes numpy's default float64 easily; integral values are agent ids all the same,
    // but a fraction would be truncated silently by HDF5's conversion, so it is refused.
    const auto raw = a.read_doubles();
    out.reserve(raw.size());
    for (std::size_t i = 0; i < raw.size(); ++i) {
      const double v = raw[i];
      if (!(v == std::floor(v) && v >= 0 && v < 0x1p53)) {
        throw FileError(path_, "/train/owner[" + std::to_string(i) + "] = " + std::to_string(v) +
                                   " is not an agent id (a non-negative integer)");
      }
      out.push_back(static_cast<Index>(v));
    }
    return out;
  }
  if (a.type() != h5::Type::kInt32 && a.type() != h5::Type::kInt64 &&
      a.type() != h5::Type::kUInt8) {
    throw FileError(path_, "/train/owner is " + std::string(h5::to_string(a.type())) +
                               "; expected integer agent ids");
  }
  const auto raw = a.read_ints();
  out.assign(raw.begin(), raw.end());
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (out[i] < 0) {
      throw FileError(path_, "/train/owner[" + std::to_string(i) + "] = " + str(out[i]) +
                                 " is a negative agent id");
    }
  }
  return out;
}

Dataset DatasetFile::read(Split s, std::span<const Index> rows) const {
  const auto& p = part(s);
  if (!p.present) {
    if (!rows.empty()) throw FileError(path_, "has no /test split");
    return Dataset::empty(n_features_, train_.sparse, task_, n_classes_);
  }
  const Index k = static_cast<Index>(rows.size());
  const std::string xname = p.sparse ? p.data.name() : p.X.name();
  if (!p.sparse) {
    check_memory(path_,
                 str(k) + " rows of " + xname + " x " + str(n_features_) + " features (float64)",
                 static_cast<std::uint64_t>(k),
                 static_cast<std::uint64_t>(n_features_) * sizeof(double), max_memory_);
  }
  Vector y(k);
  p.y.read_rows(rows, y.data());
  for (Index i = 0; i < k; ++i) {
    if (!std::isfinite(y[i])) {
      throw FileError(path_, p.y.name() + "[" + str(rows[static_cast<std::size_t>(i)]) + "] = " +
                                 std::to_string(y[i]) + " (labels must be finite numbers)");
    }
  }
  if (task_ != Task::kRegression) {
    for (Index i = 0; i < k; ++i) {
      const double v = y[i];
      const bool ok = task_ == Task::kBinary ? (v == 1.0 || v == -1.0)
                                             : (v == std::floor(v) && v >= 0 &&
                                                v < static_cast<double>(n_classes_));
      if (!ok) throw FileError(path_, p.y.name() + " holds an invalid " + to_string(task_) + " label");
    }
  }
  if (!p.sparse) {
    RowMatrix X(k, n_features_);
    p.X.read_rows(rows, X.data());
    for (Index i = 0; i < k; ++i) {
      for (Index j = 0; j < n_features_; ++j) {
        if (!std::isfinite(X(i, j)))
          bad_value(xname, rows[static_cast<std::size_t>(i)], j, X(i, j));
      }
    }
    return Dataset(std::move(X), std::move(y), task_, n_classes_);
  }
  // CSR: the wanted rows' element positions, read through the windowed list reader.
  std::uint64_t nnz = 0;
  for (Index r : rows) {
    if (r < 0 || r >= p.rows) throw FileError(path_, "row " + str(r) + " outside " + p.data.name());
    nnz += static_cast<std::uint64_t>(p.indptr[static_cast<std::size_t>(r) + 1] -
                                      p.indptr[static_cast<std::size_t>(r)]);
  }
  // Element positions, values and indices: 24 bytes per nonzero read.
  check_memory(path_, str(k) + " rows of " + xname + " with " + std::to_string(nnz) + " nonzeros",
               nnz, 3 * sizeof(double), max_memory_);
  std::vector<std::int64_t> indptr{0};
  std::vector<Index> elements;
  elements.reserve(static_cast<std::size_t>(nnz));
  for (Index r : rows) {
    for (auto e = p.indptr[static_cast<std::size_t>(r)]; e < p.indptr[static_cast<std::size_t>(r) + 1]; ++e) {
      elements.push_back(e);
    }
    indptr.push_back(static_cast<std::int64_t>(elements.size()));
  }
  std::vector<double> values(elements.size());
  std::vector<std::int64_t> indices(elements.size());
  p.data.read_rows(elements, values.data());
  p.indices.read_rows(elements, indices.data());
  for (Index i = 0; i < k; ++i) {
    for (auto e = indptr[static_cast<std::size_t>(i)]; e < indptr[static_cast<std::size_t>(i) + 1]; ++e) {
      const auto c = indices[static_cast<std::size_t>(e)];
      const bool increasing = e == indptr[static_cast<std::size_t>(i)] || c > indices[static_cast<std::size_t>(e) - 1];
      const double v = values[static_cast<std::size_t>(e)];
      if (!std::isfinite(v)) bad_value(xname, rows[static_cast<std::size_t>(i)], c, v);
      if (c < 0 || c >= n_features_ || !increasing) {
        throw FileError(path_, p.indices.name() + " of row " + str(rows[static_cast<std::size_t>(i)]) +
                                   " holds column " + std::to_string(c) +
                                   " (columns must increase within a row and lie in 0.." +
                                   str(n_features_ - 1) + ")");
      }
    }
  }
  return Dataset(csr_from_arrays(k, n_features_, indptr, indices, values), std::move(y), task_,
                 n_classes_);
}

void DatasetFile::bad_value(const std::string& xname, Index row, Index col, double v) const {
  throw FileError(path_, xname + " row " + str(row) + ", column " + str(col) + " is " +
                             std::to_string(v) + " (features must be finite numbers)");
}

Dataset DatasetFile::read_all(Split s) const {
  std::vector<Index> rows(static_cast<std::size_t>(part(s).rows));
  for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<Index>(i);
  return read(s, rows);
}

std::map<std::string, std::string> DatasetFile::extra_attributes() const {
  std::map<std::string, std::string> out;
  for (const auto& name : file_.attr_names()) {
    if (name == "task" || name == "n_features" || name == "n_classes" || name == "schema_version") {
      continue;
    }
    if (file_.attr_info(name).type == h5::Type::kString) out[name] = file_.attr_string(name);
  }
  return out;
}

namespace {

void write_part(h5::File& f, const std::string& group, const Dataset& d,
                const DatasetFileOptions& o) {
  auto g = f.create_group(group);
  if (!d.sparse()) {
    auto X = g.create_array("X", {d.rows(), d.cols()}, o.storage, o.layout);
    X.write_rows(0, d.rows(), d.dense().data());
  } else {
    const auto& S = d.csr();
    auto x = g.create_group("X");
    const Index nnz = S.nonZeros();
    const std::int64_t shape[2] = {S.rows(), S.cols()};
    x.set_attr("shape", std::span<const std::int64_t>(shape, 2));
    auto data = x.create_array("data", {nnz}, o.storage, o.layout);
    data.write_rows(0, nnz, S.valuePtr());
    x.write("indices", std::span<const std::int64_t>(S.innerIndexPtr(), static_cast<std::size_t>(nnz)),
            o.layout);
    x.write("indptr", std::span<const std::int64_t>(S.outerIndexPtr(), static_cast<std::size_t>(S.rows() + 1)),
            o.layout);
  }
  g.write("y", std::span<const double>(d.labels().data(), static_cast<std::size_t>(d.rows())));
}

}  // namespace

void write_dataset_file(const std::string& path, const Dataset& train, const Dataset& test,
                        std::span<const Index> owner, const DatasetFileOptions& options) {
  if (options.storage != h5::Type::kFloat32 && options.storage != h5::Type::kFloat64) {
    throw std::invalid_argument("write_dataset_file: storage must be float32 or float64");
  }
  if (!owner.empty() && static_cast<Index>(owner.size()) != train.rows()) {
    throw std::invalid_argument("write_dataset_file: one owner per training row");
  }
  auto f = h5::File::create(path);
  f.set_attr("schema_version", kDatasetSchemaVersion);
  f.set_attr("task", to_string(train.task()));
  f.set_attr("n_features", static_cast<std::int64_t>(train.cols()));
  f.set_attr("n_classes", static_cast<std::int64_t>(train.n_classes()));
  for (const auto& [k, v] : options.attributes) f.set_attr(k, v);
  // CSR groups must be compressed matrices (Dataset keeps them so).
  write_part(f, "/train", train, options);
  if (test.rows() > 0) write_part(f, "/test", test, options);
  if (!owner.empty()) {
    std::vector<std::int64_t> o(owner.begin(), owner.end());
    f.write("/train/owner", std::span<const std::int64_t>(o));
  }
  f.commit();
}

}  // namespace distopt
