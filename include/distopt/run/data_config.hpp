#pragma once
// Config keys -> the data and model layers' typed options: --data, --partition, --seed,
// --test-fraction, --max-memory and --precision onto DataSpec; --problem, --l2 and --nonconvex-reg onto ObjectiveOptions.
#include "distopt/data/load.hpp"
#include "distopt/model/objective_registry.hpp"
#include "distopt/run/config.hpp"

namespace distopt {

/// The run's DataSpec from --data, --partition, --seed, --test-fraction, --max-memory and
/// --precision (resolved for --problem by resolve_precision), validated (DataSpec::validate).
/// Throws ConfigError naming the key.
DataSpec data_spec_from(const Config& config);
/// The run's ObjectiveOptions from --problem, --l2 and --nonconvex-reg, validated
/// (ObjectiveOptions::validate). Throws ConfigError naming the key.
ObjectiveOptions objective_options_from(const Config& config);

}  // namespace distopt
