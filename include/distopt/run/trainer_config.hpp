#pragma once
// Config keys -> TrainerOptions (--rounds, --time, --eval-every, --target-metric, --checkpoint-every,
// --checkpoint, --resume).
#include "distopt/method/trainer.hpp"
#include "distopt/run/config.hpp"

namespace distopt {

TrainerOptions trainer_options_from(const Config& config);

}  // namespace distopt
