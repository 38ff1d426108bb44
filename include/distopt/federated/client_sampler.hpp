#pragma once
// The server's choice of active clients S_t (ALGORITHMS.md §1: "samples an active set S_t of
// clients, seeded per round, independent of how clients are placed on ranks"). Two schemes
// (--sampling):
//
// fixed (default): m of the N clients are drawn uniformly without replacement from the stream keyed
// by (seed, round, Purpose::kSampling). Every client is active with probability exactly m/N in
// every round, independently across rounds. m = N (full participation) draws nothing.
//
// bernoulli: each client is active independently with probability p (--participation), so |S_t|
// varies, as in FL-Simulator (server/server.py: active iff uniform ≤ active_ratio) and the theory
// papers' "each device participates with probability p". Client i's uniform u_i comes from the
// stream keyed (seed, attempt, round, Purpose::kSampling), drawn in client order. A draw with no
// active client is redrawn from the next attempt's stream (attempt 0, 1, 2, ...), as FL-Simulator
// redraws (with seed t + seed + inc), so every round has at least one client and
// P(i ∈ S_t) = p / (1 − (1 − p)^N) (for p = 0.1, N = 20: 0.1138). p = 1 draws nothing.
//
// Both draw from the round number alone, so every rank computes the same set: the choice does not
// depend on the placement, on the number of ranks, or on whether the run was resumed.
#include <cstdint>
#include <vector>

#include "distopt/core/types.hpp"

namespace distopt {

/// How the active clients of a round are drawn (--sampling).
enum class SamplingScheme {
  kFixed,      ///< fixed: m clients uniformly without replacement
  kBernoulli,  ///< bernoulli: each client independently with probability p (non-empty)
};

/// Draws the active clients of each round, identically on every rank.
class ClientSampler {
 public:
  /// Fixed-size sampling. Throws ConfigError("clients-per-round", ...) unless
  /// 1 <= per_round <= n_clients.
  ClientSampler(Index n_clients, Index per_round, std::uint64_t seed);
  /// Bernoulli sampling with probability p. Throws ConfigError("participation", ...) unless p is
  /// in (0, 1].
  static ClientSampler bernoulli(Index n_clients, double p, std::uint64_t seed);

  /// The number m of active clients per round among n_clients: clients_per_round if > 0 (then
  /// participation must be 1, its default), otherwise max(1, round(participation · N)).
  /// Throws ConfigError("clients-per-round", ...) when clients_per_round < 0, when both are set,
  /// or when clients_per_round > N, and ConfigError("participation", ...) unless participation is
  /// in (0, 1] (FederatedOptions::participation, clients_per_round).
  static Index per_round(double participation, Index clients_per_round, Index n_clients);
  /// The checks of per_round() that do not depend on the number of clients (all but m <= N).
  static void validate_per_round(double participation, Index clients_per_round);

  /// The active clients of `round` (1-based), in increasing order, never empty. The reference
  /// stays valid until the next call.
  const std::vector<Index>& sample(std::int64_t round);

  /// N, the number of clients.
  Index clients() const { return n_; }
  /// fixed: m, the number of active clients per round; bernoulli: N (the largest possible).
  Index per_round() const { return m_; }
  /// The scheme.
  SamplingScheme scheme() const { return scheme_; }
  /// bernoulli: p; fixed: m/N.
  double probability() const { return p_; }

 private:
  Index n_;
  Index m_;
  std::uint64_t seed_;
  SamplingScheme scheme_ = SamplingScheme::kFixed;
  double p_ = 1.0;
  std::vector<Index> active_;
};

}  // namespace distopt
