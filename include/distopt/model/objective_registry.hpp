#pragma once
// The --problem registry: one table of the models (least-squares, logistic, softmax,
// mlp:<h1>[,<h2>], cnn:<layers>) from which make_objective, its "unknown problem ... (known:
// ...)" error and the --help line are generated. User code adds a model before parsing options:
//
//   objective_registry().add({"my-model", "my-model[:<width>]", "what it is",
//                             [](const ObjectiveArgs& a) -> std::unique_ptr<Objective> {
//                               if (a.task != Task::kRegression) throw a.misfit("real labels");
//                               return std::make_unique<MyModel>(a.n_features, a.reg);
//                             }});
//
// and then --problem my-model, INI files and make_objective("my-model", ...) build it.
#include <functional>
#include <memory>
#include <string>

#include "distopt/core/error.hpp"
#include "distopt/core/registry.hpp"
#include "distopt/model/objective.hpp"

namespace distopt {

/// What an objective factory receives: the --problem spec split at its first ':' and the shape of
/// the data. The regulariser is already validated and n_features > 0.
struct ObjectiveArgs {
  std::string spec;               ///< the whole spec, "mlp:200,50"
  std::string arg;                ///< the part after the first ':', "200,50" (empty without one)
  bool has_arg = false;           ///< whether the spec has a ':'
  Index n_features = 0;           ///< feature columns of the data (> 0)
  Index n_classes = 1;            ///< classes of the data (1 for regression, 2 for binary)
  Task task = Task::kRegression;  ///< what the labels are
  Regularization reg{};           ///< the regulariser the model adds (validated)

  /// The error for data whose task the model cannot fit: ConfigError("problem", "'<spec>' needs
  /// <needs>, but the data's task is <task>").
  ConfigError misfit(const std::string& needs) const;
  /// Throws the registry's "unknown problem '<spec>' (known: ...)" error if the spec has a ':'
  /// (for models that take no argument, so "logistic:3" reads as unknown).
  void no_arg() const;
};

/// Builds a model; throws ConfigError("problem", ...) for a spec or task it cannot take.
using ObjectiveFactory = std::function<std::unique_ptr<Objective>(const ObjectiveArgs&)>;
/// The registry type of --problem.
using ObjectiveRegistry = Registry<ObjectiveFactory>;

/// The --problem registry: least-squares, logistic, softmax, `mlp:<h1>[,<h2>]`, `cnn:SPEC`, auto
/// (in that order; auto picks least-squares, logistic or softmax by the data's task), then the
/// entries user code added. Errors name the option "problem".
ObjectiveRegistry& objective_registry();

/// Typed options of the model (the command line maps --problem, --l2 and --nonconvex-reg onto
/// them in run/data_config.cpp; C++ users fill them directly).
struct ObjectiveOptions {
  /// --problem: auto (default: least-squares, logistic or softmax by the data's task) |
  /// least-squares | logistic | softmax | `mlp:<h1>[,<h2>]` | `cnn:SPEC` (model/cnn_spec.hpp), or a
  /// name added to objective_registry().
  std::string problem = "auto";
  /// --l2 (default 0) and --nonconvex-reg (default 0): R(x) = (l2/2)‖x‖² + λ Σ x_j²/(1+x_j²).
  Regularization reg{};
  /// Checks the regulariser: l2 and nonconvex finite and >= 0 (ConfigError "l2" /
  /// "nonconvex-reg"). The problem spec is checked against the data by make_objective.
  void validate() const;
};

/// make_objective(options.problem, n_features, n_classes, task, options.reg) after
/// options.validate().
std::unique_ptr<Objective> make_objective(const ObjectiveOptions& options, Index n_features,
                                          Index n_classes, Task task);

}  // namespace distopt
