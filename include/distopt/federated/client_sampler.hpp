#pragma once
// The server's choice of active clients S_t (ALGORITHMS.md §1: "samples an active set S_t of
// clients, seeded per round, independent of how clients are placed on ranks").
//
// Each round, m of the N clients are drawn uniformly without replacement from the stream keyed by
// (seed, round, Purpose::kSampling), so every rank computes the same set from the round number
// alone: the choice does not depend on the placement, on the number of ranks, or on whether the run
// was resumed. Every client is active with probability exactly m/N in every round, independently
// across rounds. m = N (full participation) draws nothing.
#include <cstdint>
#include <vector>

#include "distopt/core/types.hpp"

namespace distopt {

/// Draws the active clients of each round, identically on every rank.
class ClientSampler {
 public:
  /// Throws ConfigError("clients-per-round", ...) unless 1 <= per_round <= n_clients.
  ClientSampler(Index n_clients, Index per_round, std::uint64_t seed);

  /// The number m of active clients per round among n_clients: clients_per_round if > 0 (then
  /// participation must be 1, its default), otherwise max(1, round(participation · N)).
  /// Throws ConfigError("clients-per-round", ...) when clients_per_round < 0, when both are set,
  /// or when clients_per_round > N, and ConfigError("participation", ...) unless participation is
  /// in (0, 1] (FederatedOptions::participation, clients_per_round).
  static Index per_round(double participation, Index clients_per_round, Index n_clients);
  /// The checks of per_round() that do not depend on the number of clients (all but m <= N).
  static void validate_per_round(double participation, Index clients_per_round);

  /// The active clients of `round` (1-based), in increasing order. The reference stays valid until
  /// the next call.
  const std::vector<Index>& sample(std::int64_t round);

  /// N, the number of clients.
  Index clients() const { return n_; }
  /// m, the number of active clients per round.
  Index per_round() const { return m_; }

 private:
  Index n_;
  Index m_;
  std::uint64_t seed_;
  std::vector<Index> active_;
};

}  // namespace distopt
