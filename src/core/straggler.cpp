#include "distopt/core/straggler.hpp"

#include <chrono>
#include <sstream>
#include <string>
#include <thread>

#include "distopt/core/check.hpp"
#include "distopt/core/error.hpp"
#include "distopt/core/strings.hpp"

namespace distopt {

void GradientCostOptions::validate() const {
  check::nonnegative("grad-cost", grad_cost);
  if (slow_rank < -1) {
    throw ConfigError("slow-rank", "rank " + std::to_string(slow_rank) + " is negative");
  }
  if (slow_rank >= 0 && !(slow_factor >= 1)) {
    throw ConfigError("slow-rank",
                      "slow-down factor must be at least 1, got " + format_number(slow_factor));
  }
}

GradientCost::GradientCost(const GradientCostOptions& o, int my_rank, int world_size) {
  o.validate();
  cost_ = o.grad_cost;
  if (o.slow_rank < 0) return;
  if (o.slow_rank >= world_size) {
    throw ConfigError("slow-rank", "rank " + std::to_string(o.slow_rank) + " is outside 0.." +
                                       std::to_string(world_size - 1));
  }
  slow_rank_ = o.slow_rank;
  slow_factor_ = o.slow_factor;
  if (o.slow_rank == my_rank) factor_ = o.slow_factor;
}

void GradientCost::after_gradient(double measured) const {
  if (!active()) return;
  const double total = (measured > cost_ ? measured : cost_) * factor_;
  if (total > measured)
    std::this_thread::sleep_for(std::chrono::duration<double>(total - measured));
}

}  // namespace distopt
