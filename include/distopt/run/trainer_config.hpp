#pragma once
// Config keys -> TrainerOptions (--rounds, --time, --eval-every, --target-metric,
// --checkpoint-every,
// --checkpoint, --resume).
#include "distopt/method/trainer.hpp"
#include "distopt/run/config.hpp"

namespace distopt {

/// --rounds (>= 0; --time T, when given, sets it to ⌈T⌉), --eval-every (>= 1),
/// --target-metric, --checkpoint-every (>= 0), --checkpoint, --resume as TrainerOptions;
/// ConfigError naming the key.
TrainerOptions trainer_options_from(const Config& config);

}  // namespace distopt
