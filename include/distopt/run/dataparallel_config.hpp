#pragma once
// Config keys -> GradientDescentOptions (--algorithm gd|sgd).
#include "distopt/dataparallel/gradient_descent.hpp"
#include "distopt/run/config.hpp"

namespace distopt {

/// --lr, --lr-factor, --batch-size and the uplink/downlink options; validated.
GradientDescentOptions gradient_descent_options_from(const Config& config, bool stochastic);

}  // namespace distopt
