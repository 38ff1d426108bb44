#pragma once
// The federated family for the method registry (run/algorithm_factory.cpp): its options and its
// methods fedavg, fedprox, scaffold, feddyn, fedspeed, fedspeed-sim (ALGORITHMS.md §1).
#include <memory>
#include <string>

#include "distopt/method/algorithm.hpp"

namespace distopt {

/// Declares --participation, --clients-per-round, --local-steps, --local-epochs, --lr-decay,
/// --lr-global, --server-opt and its hyper-parameters, and each method's own options.
void add_federated_options(po::options_description& d);
/// The method named `name`, or nullptr if it is not a federated method. Validates the options
/// (ConfigError naming the option) before any training.
std::unique_ptr<Algorithm> make_federated_algorithm(const std::string& name, RunContext& ctx);

}  // namespace distopt
