#pragma once
// Placement of N logical agents (clients, workers, gossip nodes, bilevel blocks) on P ranks, in
// contiguous blocks: rank r holds agents [first(r), first(r)+count(r)), the first N mod P ranks
// one more than the others. Contiguity keeps "concatenate in rank order" equal to "agent order",
// which is what makes ordered reductions independent of P.
#include <vector>

#include "distopt/core/types.hpp"

namespace distopt {

/// The block placement of agents on ranks described above. Cheap to copy; no MPI calls.
class Placement {
 public:
  /// An empty placement (0 agents on 1 rank); assign a real one before use.
  Placement() = default;
  /// `n_agents` agents on `n_ranks` ranks, seen from rank `my_rank`. Throws
  /// ConfigError("agents", ...) if n_agents < 1, InputError if n_ranks < 1 or my_rank is not in
  /// [0, n_ranks).
  Placement(Index n_agents, int n_ranks, int my_rank);

  /// Total number of agents N.
  Index agents() const { return n_agents_; }
  /// Number of ranks P.
  int ranks() const { return n_ranks_; }
  /// The rank this placement is seen from.
  int rank() const { return my_rank_; }
  /// The rank that holds `agent` (0 <= agent < N).
  int owner(Index agent) const;
  /// First agent of rank `rank`.
  Index first(int rank) const;
  /// Number of agents on rank `rank`: N/P, plus one for the first N mod P ranks.
  Index count(int rank) const;
  /// One past the last agent of rank `rank`.
  Index end(int rank) const { return first(rank) + count(rank); }
  /// First agent of this rank.
  Index local_first() const { return first(my_rank_); }
  /// Number of agents on this rank (may be 0 when N < P).
  Index local_count() const { return count(my_rank_); }
  /// Whether this rank holds `agent`.
  bool is_local(Index agent) const { return owner(agent) == my_rank_; }
  /// Position of local `agent` among this rank's agents (agent - local_first()).
  Index local_index(Index agent) const { return agent - local_first(); }

 private:
  Index n_agents_ = 0;
  int n_ranks_ = 1;
  int my_rank_ = 0;
  Index base_ = 0;   // n_agents / n_ranks
  Index extra_ = 0;  // n_agents % n_ranks
};

}  // namespace distopt
