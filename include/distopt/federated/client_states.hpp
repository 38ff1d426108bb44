#pragma once
// Persistent per-client vectors of the clients this rank holds (SCAFFOLD's c_i, FedDyn's h_i,
// FedSpeed's ĝ_i). Every such state starts at 0 (ALGORITHMS.md §1) and is stored only once a
// client has been active, so 1000 clients with 10% participation do not cost 1000 dense vectors
// from the first round, and checkpoints hold only the clients that have state.
#include <string>
#include <vector>

#include "distopt/core/types.hpp"
#include "distopt/method/state_archive.hpp"

namespace distopt {

/// One persistent vector per client of this rank, zero until first written (see above).
class ClientStates {
 public:
  /// Clients [first, first + count) of dimension dim, all zero.
  void reset(Index first, Index count, Index dim);
  /// The state of a local client, or nullptr while it is still zero.
  const Vector* find(Index client) const;
  /// The state of a local client, allocated as zeros on first use.
  Vector& get(Index client);
  /// Number of clients with a stored (possibly nonzero) state.
  Index stored() const;

  /// Puts each stored state under StateArchive::agent_key(client, name).
  void save(StateArchive& out, const std::string& name) const;
  /// Reads the state of every local client present in the archive (absent: zero). Throws
  /// InputError naming the key when a stored vector has the wrong dimension.
  void load(const StateArchive& in, const std::string& name);

 private:
  std::size_t slot(Index client) const;
  Index first_ = 0;
  Index dim_ = 0;
  std::vector<Vector> states_;  // empty vector = zero state
};

}  // namespace distopt
