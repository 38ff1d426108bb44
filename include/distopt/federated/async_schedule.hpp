#pragma once
// The schedule of the asynchronous federated methods (AsyncFederated): the clients in flight,
// each with the simulated time of its return, ordered (t_arrival, client, dispatch index) so that
// every rank pops them in the same order. The return times depend only on client speeds, local
// step counts and the seed, never on model values, so every rank holds the same queue.
//
// Why not DADAO's EventSchedule (gossip layer): it draws Poisson clocks on the nodes and edges of
// a graph, interval by interval; here the events are deterministic return times t + τ_i of the
// clients in flight, and which client starts next is a server decision made at the arrival, so a
// priority queue of in-flight clients (ArrivalQueue) is the whole schedule. It also keeps the
// federated layer independent of the gossip layer (sibling layers, scripts/check_layers.py).
#include <cstdint>
#include <vector>

#include "distopt/core/types.hpp"

namespace distopt {

/// One client in flight: dispatched at t_dispatch on version `version`, back at t_arrival.
struct InFlight {
  Index client = 0;          ///< the client
  std::int64_t version = 0;  ///< server version of the model it downloaded
  double t_dispatch = 0;     ///< simulated time of the download
  double t_arrival = 0;      ///< simulated time of the return
  std::uint64_t seq = 0;     ///< global dispatch index (0, 1, ...): ties and checkpoints
  /// The schedule's order: (t_arrival, client, seq), the same on every rank.
  bool operator<(const InFlight& o) const;
};

/// The clients in flight, earliest arrival first (replicated on every rank).
class ArrivalQueue {
 public:
  void push(const InFlight& f);                                 ///< adds a client in flight
  bool empty() const { return q_.empty(); }                     ///< no client in flight
  Index size() const { return static_cast<Index>(q_.size()); }  ///< clients in flight
  const InFlight& top() const;  ///< the earliest arrival; Error when empty
  InFlight pop();               ///< removes and returns the earliest arrival
  const std::vector<InFlight>& items() const { return q_; }  ///< in schedule order
  void clear() { q_.clear(); }                               ///< removes every client

 private:
  std::vector<InFlight> q_;  // sorted by InFlight::operator< (small: the concurrency)
};

}  // namespace distopt
