#pragma once
// The method registry (--algorithm) and the option groups of the command line. Each entry names a
// method once: the factory, the "unknown method ... (known: ...)" error and the --algorithm help
// line come from this table. A program that embeds distopt's CLI adds its own methods (and the
// options they read) before calling cli_main():
//
//   distopt::method_registry().add({"my-method", "", "my federated method",
//       [](const distopt::Config& c, distopt::RunContext& ctx) {
//         return std::make_unique<MyMethod>(ctx, distopt::federated_options_from(c));
//       }});
//   distopt::option_groups().add({"my-method", "", "", [](auto& d) {
//       distopt::add_option(d, "my-key", "1", "what it does"); }});
//
// A method that brings its own problem (the multi-block bilevel family: its problem comes from
// --bilevel-problem, not from --data/--problem) is registered with MethodFactory::bilevel; the
// experiment then builds the BilevelProblem and hands the factory a BilevelContext:
//
//   distopt::method_registry().add({"my-bilevel", "", "my bilevel method",
//       distopt::MethodFactory::bilevel([](const distopt::Config& c, distopt::BilevelContext& b) {
//         return std::make_unique<MyBilevel>(b, my_options_from(c));
//       })});
#include <concepts>
#include <functional>
#include <memory>
#include <type_traits>
#include <utility>

#include "distopt/core/registry.hpp"
#include "distopt/method/algorithm.hpp"
#include "distopt/run/config.hpp"

namespace distopt {

struct BilevelContext;  // bilevel/exact_hypergradient_descent.hpp
class MethodFactory;

/// A callable `(const Config&, RunContext&) -> std::unique_ptr<Algorithm>` other than a
/// MethodFactory: what MethodFactory's implicit constructor takes.
template <class F>
concept DataMethodMaker =
    !std::same_as<std::remove_cvref_t<F>, MethodFactory> &&
    std::is_invocable_r_v<std::unique_ptr<Algorithm>, F&, const Config&, RunContext&>;

/// How a method is built from the resolved config: on the run's data and objective (RunContext:
/// every family but bilevel), or on a bilevel problem the experiment builds from
/// --bilevel-problem (BilevelContext: owns_problem()). Either way the factory validates the
/// method's options (ConfigError naming the key).
class MethodFactory {
 public:
  /// Builds a method on the run's data and objective.
  using Make = std::function<std::unique_ptr<Algorithm>(const Config&, RunContext&)>;
  /// Builds a method on a bilevel problem.
  using MakeBilevel = std::function<std::unique_ptr<Algorithm>(const Config&, BilevelContext&)>;

  /// An empty factory (calling it throws Error).
  MethodFactory() = default;
  /// A method on the run's data and objective, from any callable
  /// `(const Config&, RunContext&) -> std::unique_ptr<Algorithm>` (implicit, so a registry entry
  /// is written `{"name", "", "help", [](const Config& c, RunContext& ctx) { ... }}`).
  template <DataMethodMaker F>
  MethodFactory(F f) : make_(std::move(f)) {}  // NOLINT(google-explicit-constructor)
  /// A method that brings its own problem: the experiment skips --data and --problem, builds
  /// the BilevelProblem from --bilevel-problem and calls `f` with it.
  static MethodFactory bilevel(MakeBilevel f);

  /// True for a factory made by bilevel().
  bool owns_problem() const { return static_cast<bool>(make_bilevel_); }
  /// Builds the method on the run's data; Error if the factory owns its problem (or is empty).
  std::unique_ptr<Algorithm> operator()(const Config& config, RunContext& ctx) const;
  /// Builds the method on a bilevel problem; Error unless the factory owns its problem.
  std::unique_ptr<Algorithm> operator()(const Config& config, BilevelContext& ctx) const;

 private:
  Make make_;
  MakeBilevel make_bilevel_;
};
/// Declares a group of options (a family's, or a user extension's).
using OptionGroup = std::function<void(po::options_description&)>;

/// --algorithm: gd, sgd, the federated methods, dadao, gossip, the bilevel methods
/// (exact-hypergrad), and whatever user code adds.
Registry<MethodFactory>& method_registry();
/// Every option group `distopt train` accepts besides the common options (compression,
/// federated, gossip, and user groups).
Registry<OptionGroup>& option_groups();

/// Declares every option group (for --help and validation).
void add_method_options(po::options_description& d);
/// Creates the method named by --algorithm; throws ConfigError("algorithm", ...) if unknown,
/// and validates the method's options before any training.
std::unique_ptr<Algorithm> make_algorithm(const Config& config, RunContext& ctx);
/// Creates the bilevel method named by --algorithm on `ctx`; throws ConfigError("algorithm", ...)
/// if unknown or if the method does not bring its own problem.
std::unique_ptr<Algorithm> make_bilevel_algorithm(const Config& config, BilevelContext& ctx);
/// True if the method named by --algorithm brings its own problem (MethodFactory::owns_problem);
/// throws ConfigError("algorithm", ...) if unknown.
bool method_owns_problem(const Config& config);
}  // namespace distopt
