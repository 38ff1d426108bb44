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
#include <functional>
#include <memory>

#include "distopt/core/registry.hpp"
#include "distopt/method/algorithm.hpp"
#include "distopt/run/config.hpp"

namespace distopt {

/// Builds a method from the resolved config; validates its options (ConfigError naming the key).
using MethodFactory = std::function<std::unique_ptr<Algorithm>(const Config&, RunContext&)>;
/// Declares a group of options (a family's, or a user extension's).
using OptionGroup = std::function<void(po::options_description&)>;

/// --algorithm: gd, sgd, the federated methods, dadao, gossip, and whatever user code adds.
Registry<MethodFactory>& method_registry();
/// Every option group `distopt train` accepts besides the common options (compression,
/// federated, gossip, and user groups).
Registry<OptionGroup>& option_groups();

/// Declares every option group (for --help and validation).
void add_method_options(po::options_description& d);
/// Creates the method named by --algorithm; throws ConfigError("algorithm", ...) if unknown,
/// and validates the method's options before any training.
std::unique_ptr<Algorithm> make_algorithm(const Config& config, RunContext& ctx);
}  // namespace distopt
