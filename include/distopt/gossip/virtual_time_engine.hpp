#pragma once
// Virtual-time execution of DADAO over MPI (--clock virtual). Every rank processes the events of
// its own nodes in the global event order restricted to them (EventSchedule). A gradient event
// is local. A communication event on edge (i, j):
//   * both ends on this rank: integrate both to t, exchange y+z in memory, jump both;
//   * i here, j on rank q: integrate i to t, post a nonblocking send of [event id, y_i+z_i] to q,
//     receive q's [event id, y_j+z_j] on the edge's tag, check the event id, jump i.
// There is no barrier per event: ranks meet only in the point-to-point messages of the edges they
// share (and in the Trainer's per-round evaluation).
//
// Why this cannot deadlock. A rank blocks only in the receive of a cross-rank event e at time t,
// and only after its own half of e has been posted. Its partner q has then either already posted
// its half (the receive completes) or has not reached e yet: q is busy with, or blocked at, an
// event e' that precedes e in q's order, hence in the global order (t', ...) < (t, ...), because
// both ranks order their events by the same total order. If q is blocked at e', it waits for a
// rank blocked at an even earlier event, and so on: a wait chain runs down strictly decreasing
// events, so it is finite and ends at a rank that is not blocked, which makes progress. Hence
// the globally first unfinished event always completes, and by induction every event does.
// Messages between two ranks on one edge travel in event order on both sides (MPI's
// non-overtaking rule per source and tag), and the event id in every message is checked.
//
// Bitwise identity at any rank count: a node's state after an event depends only on its state,
// the event time and, for communication, the partner's y+z at that time, all computed by the same
// code on the same values (DadaoNode), whichever rank holds the partner.
#include <cstdint>
#include <vector>

#include "distopt/gossip/dadao_node.hpp"
#include "distopt/gossip/event_schedule.hpp"
#include "distopt/gossip/gossip_problem.hpp"

namespace distopt {

/// Runs DADAO's events of this rank's nodes in virtual time (see above).
class VirtualTimeEngine {
 public:
  /// Drives `nodes` (this rank's, in node order) of `problem` with the flow `ode`, the jumps of
  /// `c` and the clocks of `schedule`; all are kept by reference. `compensate`:
  /// --rate-compensation (gradient jumps scaled by 1/rate).
  VirtualTimeEngine(GossipProblem& problem, std::vector<DadaoNode>& nodes, const DadaoOde& ode,
                    const DadaoConstants& c, const EventSchedule& schedule, bool compensate = false);
  /// Processes every event of the local nodes in (round−1, min(round, t_end)].
  void advance(std::int64_t round, double t_end);

  /// Per local node: gradient events, and communication events on edges whose lower end is the
  /// node (so sums over nodes count every edge event once).
  std::vector<std::uint64_t>& grad_events() { return grad_events_; }
  /// Per local node: communication events on edges whose lower end is the node (writable, for
  /// checkpoint restore).
  std::vector<std::uint64_t>& comm_events() { return comm_events_; }
  /// Per local node: gradient events.
  const std::vector<std::uint64_t>& grad_events() const { return grad_events_; }
  /// Per local node: communication events on edges whose lower end is the node.
  const std::vector<std::uint64_t>& comm_events() const { return comm_events_; }

 private:
  DadaoNode& node(Index i) { return nodes_[static_cast<std::size_t>(i - problem_.local_first())]; }
  std::size_t local(Index i) const { return static_cast<std::size_t>(i - problem_.local_first()); }
  void gradient_event(const Event& ev);
  void comm_event(const Event& ev);

  GossipProblem& problem_;
  std::vector<DadaoNode>& nodes_;
  const DadaoOde& ode_;
  const DadaoConstants& c_;
  const EventSchedule& schedule_;
  bool compensate_;
  std::vector<Event> events_;
  std::vector<std::uint64_t> grad_events_, comm_events_;
  Vector g_, own_, other_;
  std::vector<double> send_, recv_;
};

}  // namespace distopt
