#pragma once
// The method registry of the command line: --algorithm NAME -> its options and its factory.
#include <memory>

#include "distopt/method/algorithm.hpp"
#include "distopt/run/config.hpp"

namespace distopt {

/// Declares the options of every method family (for --help and validation).
void add_method_options(po::options_description& d);
/// Creates the method named by --algorithm; throws ConfigError("algorithm", ...) if unknown,
/// and validates the method's options before any training.
std::unique_ptr<Algorithm> make_algorithm(const Config& config, RunContext& ctx);

/// TRANSITIONAL: the same, from ctx.config.
std::unique_ptr<Algorithm> make_algorithm(RunContext& ctx);

}  // namespace distopt
