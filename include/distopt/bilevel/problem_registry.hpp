#pragma once
// The --bilevel-problem registry (core/registry.hpp): one table of the bilevel problems
// (`multitask`, `reweight`, later the BSVRB paper's `hyperclean`) from which
// make_bilevel_problem, its "unknown bilevel problem ... (known: ...)" error and the --help line
// are generated. User code adds its own problem before parsing options:
//
//   bilevel_problem_registry().add({"my-task", "my-task[:<n>]", "what it is",
//                                   [](const BilevelProblemArgs& a) {
//                                     return std::make_unique<MyTask>(a.arg, a.blocks, a.seed,
//                                                                     a.placement);
//                                   }});
//
// and then --bilevel-problem my-task and make_bilevel_problem({.problem = "my-task"}, ...) build
// it. Every problem built through make_bilevel_problem is checked by validate_bilevel_problem.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "distopt/bilevel/bilevel_problem.hpp"
#include "distopt/bilevel/hyperclean.hpp"
#include "distopt/bilevel/multitask.hpp"
#include "distopt/bilevel/reweight.hpp"
#include "distopt/comm/placement.hpp"
#include "distopt/core/registry.hpp"

namespace distopt {

/// Typed options of the bilevel problem: which one, and each built-in problem's own options.
struct BilevelProblemOptions {
  /// --bilevel-problem: `multitask`, or a name added to bilevel_problem_registry(); what follows
  /// the first ':' is the problem's argument (BilevelProblemArgs::arg).
  std::string problem = "multitask";
  /// --bilevel-data: the data source of the problems that read data (`reweight`, `hyperclean`),
  /// a --data spec (data/source.hpp); default `fmnist`. `multitask` generates its own rows.
  std::string data = "fmnist";
  /// --max-memory: bound of the sizes read from --bilevel-data's files (data/memory_budget.hpp);
  /// 0: the default (3/4 of the machine's memory).
  std::uint64_t max_memory = 0;
  /// The options of `multitask` (used only when problem is `multitask`).
  MultitaskOptions multitask{};
  /// The options of `reweight` (used only when problem is `reweight`).
  ReweightOptions reweight{};
  /// The options of `hyperclean` (used only when problem is `hyperclean`).
  HypercleanOptions hyperclean{};
  /// Throws ConfigError naming the key: "bilevel-problem" when empty, and the selected built-in
  /// problem's keys. The name itself is checked against the registry by make_bilevel_problem.
  void validate() const;
};

/// What a bilevel-problem factory receives.
struct BilevelProblemArgs {
  std::string spec;                 ///< the whole spec, "multitask" or "my-task:3"
  std::string arg;                  ///< the part after the first ':' (empty without one)
  bool has_arg = false;             ///< whether the spec has a ':'
  Index blocks = 0;                 ///< m ≥ 1, the number of blocks (agents)
  std::uint64_t seed = 1;           ///< the data seed (the data must depend on it and nothing else)
  Placement placement;              ///< the blocks over the ranks; the problem holds the local ones
  BilevelProblemOptions options{};  ///< the typed options (validated)

  /// Throws the registry's "`unknown bilevel problem '<spec>' (known: ...)`" error if the spec has
  /// a ':' (for problems that take no argument).
  void no_arg() const;
};

/// Builds a bilevel problem; throws ConfigError naming the key for a spec it cannot take.
using BilevelProblemFactory =
    std::function<std::unique_ptr<BilevelProblem>(const BilevelProblemArgs&)>;
/// The registry type of --bilevel-problem.
using BilevelProblemRegistry = Registry<BilevelProblemFactory>;

/// The --bilevel-problem registry: `multitask`, `reweight`, then the entries user code added.
/// Errors name the option "bilevel-problem".
BilevelProblemRegistry& bilevel_problem_registry();

/// Validates `options`, looks options.problem up in the registry, builds the problem for
/// `blocks` blocks placed by `placement` from `seed`, and checks it (validate_bilevel_problem).
/// Throws ConfigError naming the key.
std::unique_ptr<BilevelProblem> make_bilevel_problem(const BilevelProblemOptions& options,
                                                     Index blocks, std::uint64_t seed,
                                                     const Placement& placement);

}  // namespace distopt
