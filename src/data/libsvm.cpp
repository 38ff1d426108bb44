#include "distopt/data/libsvm.hpp"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>

#include "distopt/core/error.hpp"
#include "distopt/data/memory_budget.hpp"

namespace distopt {

namespace {

/// Reads one line (any length) from a gzip or plain file; false at end of file.
bool read_line(gzFile f, std::string& line, std::vector<char>& buf) {
  line.clear();
  while (true) {
    if (!gzgets(f, buf.data(), static_cast<int>(buf.size()))) return !line.empty();
    line += buf.data();
    if (!line.empty() && line.back() == '\n') {
      line.pop_back();
      if (!line.empty() && line.back() == '\r') line.pop_back();
      return true;
    }
  }
}

}  // namespace

LibsvmRaw parse_libsvm(const std::string& path, std::uint64_t max_memory) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw FileError(path, "no such file");
  std::unique_ptr<gzFile_s, int (*)(gzFile)> f(gzopen(path.c_str(), "rb"), gzclose);
  if (!f) throw FileError(path, "cannot open");
  std::vector<std::int64_t> indptr{0}, indices;
  std::vector<double> values;
  LibsvmRaw raw;
  std::int64_t width = 0;
  std::string line;
  std::vector<char> buf(1 << 16);
  Index lineno = 0;
  // Limits compared on every token and line; the message is built only when one is crossed.
  constexpr std::uint64_t kNonzeroBytes = sizeof(std::int64_t) + sizeof(double);
  const std::uint64_t model_limit = effective_max_memory(max_memory) / sizeof(double);
  const std::uint64_t nnz_limit = effective_max_memory(max_memory) / kNonzeroBytes;
  while (read_line(f.get(), line, buf)) {
    ++lineno;
    const auto bad = [&](const std::string& what) {
      return FileError(path, "line " + std::to_string(lineno) + ": " + what);
    };
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    const char* p = line.c_str();
    while (*p == ' ' || *p == '\t') ++p;
    if (*p == '\0') continue;  // blank or comment-only line
    char* end = nullptr;
    errno = 0;
    const double label = std::strtod(p, &end);
    if (end == p || (*end != ' ' && *end != '\t' && *end != '\0') || errno == ERANGE) {
      throw bad("bad label '" + std::string(p, std::strcspn(p, " \t")) + "'");
    }
    if (!std::isfinite(label)) {
      throw bad("label " + std::string(p, static_cast<const char*>(end)) +
                " (labels must be finite numbers)");
    }
    p = end;
    std::int64_t last = 0;
    while (true) {
      while (*p == ' ' || *p == '\t') ++p;
      if (*p == '\0') break;
      const char* tok = p;
      const auto token = [&] { return std::string(tok, std::strcspn(tok, " \t")); };
      errno = 0;
      const long long idx = std::strtoll(p, &end, 10);
      if (end == p || *end != ':') throw bad("expected index:value, got '" + token() + "'");
      if (errno == ERANGE) {
        throw bad("feature index " + std::string(tok, static_cast<const char*>(end)) +
                  " does not fit in 64 bits");
      }
      if (idx < 1) throw bad("feature index " + std::to_string(idx) + " (indices start at 1)");
      // The index is the model's dimension: checked here, before any vector of that size
      // exists (a typo like 100000000000 would otherwise end in std::bad_alloc).
      if (static_cast<std::uint64_t>(idx) > model_limit) {
        if (auto excess =
                memory_excess("feature index " + std::to_string(idx) + ": a " +
                                  std::to_string(idx) + "-dimensional float64 model",
                              static_cast<std::uint64_t>(idx), sizeof(double), max_memory)) {
          throw bad(*excess);
        }
      }
      if (idx <= last) throw bad("feature indices must increase ('" + token() + "')");
      p = end + 1;
      errno = 0;
      const double v = std::strtod(p, &end);
      if (end == p || (*end != ' ' && *end != '\t' && *end != '\0') || errno == ERANGE) {
        throw bad("bad value in '" + token() + "'");
      }
      if (!std::isfinite(v)) {
        throw bad("feature " + std::to_string(idx) + " is " +
                  std::string(p, static_cast<const char*>(end)) +
                  " (values must be finite numbers)");
      }
      p = end;
      last = idx;
      indices.push_back(idx - 1);
      values.push_back(v);
    }
    width = std::max(width, last);
    // The nonzeros grow with the file: an index and a value each (a huge file is refused at
    // the line that crosses the budget, not by std::bad_alloc).
    if (indices.size() > nnz_limit) {
      throw bad(*memory_excess("the " + std::to_string(indices.size()) + " nonzeros up to here",
                               indices.size(), kNonzeroBytes, max_memory));
    }
    indptr.push_back(static_cast<std::int64_t>(indices.size()));
    raw.labels.push_back(label);
  }
  if (raw.labels.empty()) throw FileError(path, "no samples in LIBSVM file");
  raw.X = csr_from_arrays(static_cast<Index>(raw.labels.size()), width, indptr, indices, values);
  return raw;
}

Vector LabelRule::apply(std::span<const double> raw) const {
  Vector y(static_cast<Index>(raw.size()));
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (task == Task::kRegression) {
      y[static_cast<Index>(i)] = raw[i];
      continue;
    }
    const auto it = std::lower_bound(classes.begin(), classes.end(), raw[i]);
    const auto c = static_cast<double>(it - classes.begin());
    y[static_cast<Index>(i)] = task == Task::kBinary ? (c == 0 ? -1.0 : 1.0) : c;
  }
  return y;
}

LabelRule infer_label_rule(std::span<const double> raw, std::optional<Task> forced,
                           const std::string& what) {
  std::vector<double> distinct(raw.begin(), raw.end());
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  const bool integral = std::all_of(distinct.begin(), distinct.end(),
                                    [](double v) { return v == std::floor(v); });
  LabelRule rule;
  Task task;
  if (forced) {
    task = *forced;
  } else if (distinct.size() == 2) {
    task = Task::kBinary;
  } else if (integral) {
    task = Task::kMulticlass;
  } else {
    task = Task::kRegression;
  }
  rule.task = task;
  if (task == Task::kRegression) return rule;
  if (task == Task::kBinary && distinct.size() != 2) {
    throw InputError(what + ": binary labels need exactly two distinct values, found " +
                     std::to_string(distinct.size()));
  }
  if (task == Task::kMulticlass && !integral) {
    throw InputError(what + ": multiclass labels must be integers");
  }
  rule.classes = std::move(distinct);
  rule.n_classes = static_cast<Index>(rule.classes.size());
  return rule;
}

LibsvmData read_libsvm(const std::string& train_path, const std::string& test_path,
                       std::optional<Task> task, Index n_features, std::uint64_t max_memory) {
  if (n_features > 0) {
    check_memory(train_path,
                 "features=" + std::to_string(n_features) + ": a " + std::to_string(n_features) +
                     "-dimensional float64 model",
                 static_cast<std::uint64_t>(n_features), sizeof(double), max_memory);
  }
  auto train = parse_libsvm(train_path, max_memory);
  LibsvmRaw test;
  if (!test_path.empty()) test = parse_libsvm(test_path, max_memory);
  std::vector<double> all = train.labels;
  all.insert(all.end(), test.labels.begin(), test.labels.end());
  const auto rule = infer_label_rule(all, task, train_path);
  const Index width = std::max({n_features, train.X.cols(), test.X.cols()});
  train.X.conservativeResize(train.X.rows(), width);
  LibsvmData out;
  out.train = Dataset(std::move(train.X), rule.apply(train.labels), rule.task, rule.n_classes);
  if (!test_path.empty()) {
    test.X.conservativeResize(test.X.rows(), width);
    out.test = Dataset(std::move(test.X), rule.apply(test.labels), rule.task, rule.n_classes);
  } else {
    out.test = Dataset::empty(width, true, rule.task, rule.n_classes);
  }
  return out;
}

}  // namespace distopt
