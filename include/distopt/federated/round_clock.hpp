#pragma once
// Simulated time of clients with heterogeneous speeds (--client-speed, client_speed.hpp): client
// i's local run of K_i steps takes τ_i = max(K_i, 1) / s_i units of simulated time. The
// asynchronous methods schedule their arrivals by τ_i (async_federated.hpp); a synchronous round
// waits for its slowest participant, so round t lasts max_{i∈S_t} τ_i, and a decentralized round,
// in which every client trains, max_i τ_i. Communication takes no simulated time in either.
// The synchronous methods report the running sum as the metric `virtual_time`, the name FedBuff
// and FedFix give to their clock, so that every federated method can be plotted against the same
// simulated time (docs/results-federated.md). With the default constant speed 1 a round lasts as
// many units as its longest local run has steps.
#include <cstdint>
#include <span>
#include <vector>

#include "distopt/core/types.hpp"
#include "distopt/federated/client_speed.hpp"
#include "distopt/federated/local_solver.hpp"
#include "distopt/method/algorithm.hpp"

namespace distopt {

/// τ_i = max(K_i, 1) / speeds[i] of every client of ctx, K_i = solver.steps_for(rows of client i).
/// Collective: each rank knows its own clients' rows, so one allreduce of the step counts (small
/// integers in doubles: exact in any order); the result is identical on every rank.
std::vector<double> client_compute_times(RunContext& ctx, const LocalSolver& solver,
                                         const std::vector<double>& speeds);

/// The simulated time of synchronous rounds (file comment): replicated, no communication after
/// initialize().
class RoundClock {
 public:
  /// Draws the speeds of ctx's clients (client_speeds, keyed by ctx.seed) and computes τ_i.
  /// Collective. Resets the time to 0.
  void initialize(RunContext& ctx, const LocalSolver& solver, const ClientSpeedOptions& speed);
  /// Adds a round whose participants are `active` (the same list on every rank); returns its
  /// duration max τ_i (0 for no participant).
  double advance(std::span<const Index> active);
  /// Adds a round in which every client trains; returns its duration max_i τ_i.
  double advance_all();
  /// The simulated time after the rounds added so far.
  double now() const { return now_; }
  /// Back to time 0 (a resumed run replays its rounds: the sum then has the uninterrupted bits).
  void reset() { now_ = 0; }

 private:
  std::vector<double> tau_;
  double max_tau_ = 0;
  double now_ = 0;
};

}  // namespace distopt
