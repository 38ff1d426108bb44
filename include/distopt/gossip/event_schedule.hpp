#pragma once
// DADAO's clocks (ALGORITHMS.md §3): every node has a gradient clock, a Poisson process of rate 1
// (together rate n, each event at a uniformly chosen node, as the reference code draws them), and
// the communication events form a Poisson process of total rate λ_c whose events pick an edge
// uniformly, i.e. every edge has an independent Poisson clock of rate λ_c/|E| (superposition).
//
// Counter-based generation: the events of node i in the unit interval (r−1, r] are drawn from the
// stream keyed (seed, i, r) and those of edge e from the stream keyed (seed, n + e, r); a Poisson
// process restricted to disjoint intervals is independent across them, and restarting the
// exponential gaps at r−1 is exact by memorylessness. So any rank can draw exactly the events of
// its own nodes and incident edges, and the global event sequence does not depend on the number
// of ranks or on which rank draws it.
#include <cstdint>
#include <vector>

#include "distopt/core/types.hpp"
#include "distopt/topology/graph.hpp"

namespace distopt {

class Placement;

/// One clock event of DADAO: a node's gradient or an edge's communication, at virtual time t.
struct Event {
  /// What fires: a node's gradient clock (kGradient) or an edge's communication clock (kComm).
  enum Kind : std::uint8_t { kGradient = 0, kComm = 1 };
  double t = 0;            ///< virtual time of the event
  Kind kind = kGradient;   ///< gradient or communication
  Index key = 0;           ///< node (gradient) or edge (communication)
  std::int64_t round = 0;  ///< the unit interval (round−1, round] it was drawn in
  std::uint32_t seq = 0;   ///< index within that interval's draws of this node/edge
  /// Total order (t, kind, key, round, seq): ties in t (probability zero) are broken the same way
  /// on every rank.
  bool operator<(const Event& o) const;
  bool operator==(const Event& o) const = default;  ///< every field equal
};

/// DADAO's Poisson clocks over a graph (see above): draws any node range's events of a round.
class EventSchedule {
 public:
  EventSchedule() = default;
  /// grad_rate per node, comm_rate in total (spread uniformly over the edges). `g` is kept by
  /// reference and must outlive the schedule.
  EventSchedule(const Graph& g, std::uint64_t seed, double grad_rate, double comm_rate);
  /// Heterogeneous gradient clocks: node i fires at rate rates[i] (one entry per node, > 0).
  /// A node's stream is keyed by the node alone, so its events depend only on its own rate.
  void set_node_rates(std::vector<double> rates);
  /// Gradient clock rate of node i.
  double node_rate(Index i) const {
    return node_rates_.empty() ? grad_rate_ : node_rates_[static_cast<std::size_t>(i)];
  }

  /// Times of the events of one clock in (round−1, min(round, t_end)], increasing.
  static void clock_times(std::uint64_t seed, std::uint64_t key, std::int64_t round, double rate,
                          double t_end, std::vector<double>& out);

  /// Every event that involves a node in [first, first+count) in (round−1, min(round, t_end)],
  /// sorted by Event::operator<. An edge with both ends in the range appears once.
  void events(Index first, Index count, std::int64_t round, double t_end, std::vector<Event>& out) const;

  double grad_rate() const { return grad_rate_; }  ///< the uniform gradient rate per node
  double edge_rate() const { return edge_rate_; }  ///< λ_c/|E|: the rate of every edge's clock
  const Graph& graph() const { return *graph_; }   ///< the graph the clocks run on

 private:
  const Graph* graph_ = nullptr;
  std::uint64_t seed_ = 1;
  double grad_rate_ = 1;
  double edge_rate_ = 0;
  std::vector<double> node_rates_;  // empty: every node at grad_rate_
};

}  // namespace distopt
