#include "distopt/run/trainer_config.hpp"

#include <cmath>

namespace distopt {

TrainerOptions trainer_options_from(const Config& c) {
  TrainerOptions o;
  o.rounds = c.get_int_at_least("rounds", 0);
  // Event-driven methods (dadao) take --time T: T units of virtual time, one per round. fedbuff
  // and fedfix read --time themselves (a budget on their clock, Algorithm::budget_spent()): their
  // rounds are server updates, --rounds stays their budget of those.
  const bool own_clock =
      c.has("algorithm") && (c.get("algorithm") == "fedbuff" || c.get("algorithm") == "fedfix");
  if (!own_clock && c.has("time") && !c.get("time").empty()) {
    o.rounds = static_cast<std::int64_t>(std::ceil(c.get_positive("time")));
  }
  o.eval_every = c.get_int_at_least("eval-every", 1);
  if (c.has("target-metric") && !c.get("target-metric").empty()) {
    o.target = TargetMetric::parse(c.get("target-metric"));
  }
  o.checkpoint_every = c.get_int_at_least("checkpoint-every", 0);
  if (c.has("checkpoint")) o.checkpoint_path = c.get("checkpoint");
  if (c.has("resume")) o.resume_path = c.get("resume");
  return o;
}

}  // namespace distopt
