// The --problem registry and make_objective.
#include "distopt/model/objective_registry.hpp"

#include <charconv>
#include <cmath>
#include <vector>

#include "distopt/model/cnn.hpp"
#include "distopt/model/cnn_spec.hpp"
#include "distopt/model/least_squares.hpp"
#include "distopt/model/logistic.hpp"
#include "distopt/model/mlp.hpp"
#include "distopt/model/softmax.hpp"

namespace distopt {

namespace {

constexpr const char* kKey = "problem";

/// "200" → 200; anything but a positive decimal integer (no sign, no spaces) is an error.
Index parse_width(const std::string& problem, const std::string& s) {
  Index v = 0;
  const auto* end = s.data() + s.size();
  const auto [p, ec] = std::from_chars(s.data(), end, v);
  if (s.empty() || ec != std::errc() || p != end || v <= 0) {
    throw ConfigError(kKey, "'" + problem + "': hidden layer size '" + s +
                                "' is not a positive integer (expected mlp:<h1>[,<h2>])");
  }
  // A width beyond this is a typo, not a model (its weight matrix alone would not fit in memory).
  if (v > 1'000'000) {
    throw ConfigError(kKey, "'" + problem + "': hidden layer size " + s + " is too large");
  }
  return v;
}

std::unique_ptr<Objective> least_squares(const ObjectiveArgs& a) {
  a.no_arg();
  // Regression, or regression onto ±1 labels; class indices 0..C−1 are not targets.
  if (a.task == Task::kMulticlass) throw a.misfit("real (regression) or ±1 labels");
  return std::make_unique<LeastSquares>(a.n_features, a.reg);
}

std::unique_ptr<Objective> logistic(const ObjectiveArgs& a) {
  a.no_arg();
  if (a.task != Task::kBinary) throw a.misfit("binary ±1 labels (use softmax for multiclass)");
  return std::make_unique<Logistic>(a.n_features, a.reg);
}

std::unique_ptr<Objective> softmax(const ObjectiveArgs& a) {
  a.no_arg();
  if (a.task != Task::kMulticlass || a.n_classes < 2) {
    throw a.misfit("multiclass labels 0..C-1 with C >= 2");
  }
  return std::make_unique<Softmax>(a.n_features, a.n_classes, a.reg);
}

// The linear model the data's task calls for: least squares for regression, logistic regression
// for ±1 labels, softmax regression for classes 0..C−1 (so a run that names no --problem works on
// any data).
std::unique_ptr<Objective> automatic(const ObjectiveArgs& a) {
  a.no_arg();
  switch (a.task) {
    case Task::kRegression:
      return least_squares(a);
    case Task::kBinary:
      return logistic(a);
    case Task::kMulticlass:
      return softmax(a);
  }
  throw a.misfit("a regression, binary or multiclass task");
}

std::unique_ptr<Objective> mlp(const ObjectiveArgs& a) {
  if (a.arg.empty()) {
    throw ConfigError(kKey, "'" + a.spec + "': give the hidden layer sizes, mlp:<h1>[,<h2>]");
  }
  const std::string& spec = a.arg;
  std::vector<Index> hidden;
  for (std::size_t start = 0;;) {
    const auto comma = spec.find(',', start);
    hidden.push_back(parse_width(
        a.spec, spec.substr(start, comma == std::string::npos ? comma : comma - start)));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (hidden.size() > 2) {
    throw ConfigError(kKey, "'" + a.spec + "': at most two hidden layers (mlp:<h1>[,<h2>])");
  }
  if (a.task != Task::kMulticlass || a.n_classes < 2) {
    throw a.misfit("multiclass labels 0..C-1 with C >= 2");
  }
  return std::make_unique<Mlp>(a.n_features, std::move(hidden), a.n_classes, a.reg);
}

// The CNN: spec grammar and shape checks in model/cnn_spec.cpp.
std::unique_ptr<Objective> cnn(const ObjectiveArgs& a) {
  if (a.task != Task::kMulticlass || a.n_classes < 2) {
    throw a.misfit("multiclass labels 0..C-1 with C >= 2");
  }
  return std::make_unique<Cnn>(parse_cnn_spec(a.spec, a.arg, a.n_features, a.n_classes), a.reg);
}

/// The regulariser checks of make_objective (the first thing it checks).
void check_regularization(const Regularization& reg) {
  if (!(reg.l2 >= 0.0) || !std::isfinite(reg.l2)) {
    throw ConfigError("l2", "must be a finite number >= 0");
  }
  if (!(reg.nonconvex >= 0.0) || !std::isfinite(reg.nonconvex)) {
    throw ConfigError("nonconvex-reg", "must be a finite number >= 0");
  }
}

}  // namespace

ConfigError ObjectiveArgs::misfit(const std::string& needs) const {
  return ConfigError(
      kKey, "'" + spec + "' needs " + needs + ", but the data's task is " + to_string(task));
}

void ObjectiveArgs::no_arg() const {
  if (has_arg) throw objective_registry().unknown(spec);
}

ObjectiveRegistry& objective_registry() {
  static ObjectiveRegistry r = [] {
    ObjectiveRegistry reg("problem", kKey);
    reg.add({"least-squares", "least-squares", "mean squared error (regression or +-1 labels)",
             least_squares});
    reg.add({"logistic", "logistic", "binary logistic regression (+-1 labels)", logistic});
    reg.add({"softmax", "softmax", "multinomial logistic regression (classes 0..C-1)", softmax});
    reg.add({"mlp", "mlp:<h1>[,<h2>]",
             "multilayer perceptron, one or two ReLU hidden layers, softmax output", mlp});
    reg.add({"cnn", "cnn:<layers>",
             "convolutional network: lenet5, fedavg, or [in=HxWxC,]cNkK[sS][pP],maxK[sS],avgK[sS],"
             "fN,... (ReLU), softmax output",
             cnn});
    reg.add({"auto", "auto",
             "by the data's task: least-squares (regression), logistic (+-1 labels), softmax "
             "(classes)",
             automatic});
    return reg;
  }();
  return r;
}

void ObjectiveOptions::validate() const {
  check_regularization(reg);
}

std::unique_ptr<Objective> make_objective(const std::string& problem, Index n_features,
                                          Index n_classes, Task task, const Regularization& reg) {
  check_regularization(reg);
  if (n_features <= 0) throw ConfigError(kKey, "'" + problem + "': the data has no features");
  const auto parts = split_spec(problem);
  const auto& entry = objective_registry().get(parts.kind, problem);
  ObjectiveArgs args;
  args.spec = problem;
  args.arg = parts.arg;
  args.has_arg = parts.has_arg;
  args.n_features = n_features;
  args.n_classes = n_classes;
  args.task = task;
  args.reg = reg;
  return entry.make(args);
}

std::unique_ptr<Objective> make_objective(const ObjectiveOptions& options, Index n_features,
                                          Index n_classes, Task task) {
  options.validate();
  return make_objective(options.problem, n_features, n_classes, task, options.reg);
}

}  // namespace distopt
