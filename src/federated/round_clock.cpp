#include "distopt/federated/round_clock.hpp"

#include <algorithm>

#include "distopt/data/local_data.hpp"

namespace distopt {

std::vector<double> client_compute_times(RunContext& ctx, const LocalSolver& solver,
                                         const std::vector<double>& speeds) {
  const Index n = ctx.placement.agents();
  std::vector<double> steps(static_cast<std::size_t>(n), 0.0);
  const Index first = ctx.placement.local_first();
  for (Index a = first; a < first + ctx.placement.local_count(); ++a) {
    steps[static_cast<std::size_t>(a)] =
        static_cast<double>(solver.steps_for(ctx.data.shard(a).rows()));
  }
  ctx.comm.allreduce_sum(steps);
  std::vector<double> tau(static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < tau.size(); ++i) tau[i] = std::max(steps[i], 1.0) / speeds[i];
  return tau;
}

void RoundClock::initialize(RunContext& ctx, const LocalSolver& solver,
                            const ClientSpeedOptions& speed) {
  tau_ = client_compute_times(ctx, solver, client_speeds(speed, ctx.placement.agents(), ctx.seed));
  max_tau_ = tau_.empty() ? 0.0 : *std::max_element(tau_.begin(), tau_.end());
  now_ = 0;
}

double RoundClock::advance(std::span<const Index> active) {
  double longest = 0;
  for (Index i : active) longest = std::max(longest, tau_[static_cast<std::size_t>(i)]);
  now_ += longest;
  return longest;
}

double RoundClock::advance_all() {
  now_ += max_tau_;
  return max_tau_;
}

}  // namespace distopt
