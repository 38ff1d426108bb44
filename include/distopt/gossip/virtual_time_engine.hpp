#pragma once
// Virtual-time execution of DADAO over MPI (--clock virtual). Every rank processes the events of
// its own nodes (EventSchedule), an interval of one or more units of virtual time at a time. A
// gradient event is local. A communication event on edge (i, j):
//   * both ends on this rank: integrate both to t, exchange y+z in memory, jump both;
//   * i here, j on rank q: integrate i to t, post a receive and a nonblocking send of
//     [event id, y_i+z_i] to q on the edge's tag; when q's [event id, y_j+z_j] has arrived, check
//     the event id and jump i.
// There is no barrier per event: ranks meet only in the point-to-point messages of the edges they
// share (and in the Trainer's evaluations).
//
// Dataflow order (conservative parallel discrete-event simulation). An event changes only the
// state of the nodes it involves, and its result depends only on their states, its time and, for
// communication, the partner's y+z at that time. So any order that runs every node's events in
// increasing time gives the same bits as the global time order, which is one such order. While an
// exchange of node i awaits its reply, the rank goes on with every later event that involves
// neither i nor a node already waiting behind i: a pass over the pending events runs each event
// whose local nodes no earlier pending event holds (an event that cannot run holds its local
// nodes). Across a ring split in two halves, say, a rank keeps working on its other nodes for
// several units of virtual time while one end node waits, instead of stopping at every
// cross-rank event. When a pass makes no progress, the rank waits for a reply without spinning
// in MPI (a short spin, then sched_yield, then sleeps of 50 µs: on a loaded machine a waiting
// rank leaves the core to its partner instead of burning its time slice in Open MPI's polling).
//
// Why this cannot deadlock. A rank waits only when every pending event is held, and so only
// behind an exchange whose own half has been posted (the first pending event is never held). Take
// the globally first unfinished event e, at time t. None of its nodes has an earlier unfinished
// event, so every rank involved posts its half of e in its next pass; both halves arrive, and e
// completes. By induction every event does. Two exchanges of one edge are never in flight at
// once (the second involves the node the first holds), so an edge's messages between two ranks
// travel in event order on both sides (MPI's non-overtaking rule per source and tag), and the
// event id in every message is checked. If the graph has more edges than NeighborExchange has
// edge tags, two edges could share a tag and an in-flight pair; then nothing passes an exchange
// in flight (one exchange at a time, the strict global order).
//
// Bitwise identity at any rank count: a node's state after an event depends only on its state,
// the event time and, for communication, the partner's y+z at that time, all computed by the same
// code on the same values (DadaoNode), whichever rank holds the partner and in whichever
// dataflow order the rank runs them.
#include <cstdint>
#include <vector>

#include "distopt/comm/communicator.hpp"
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
  void advance(std::int64_t round, double t_end) { advance(round, round, t_end); }
  /// Processes every event of the local nodes in (first_round−1, min(last_round, t_end)] (the
  /// rounds' unit intervals one after another), in dataflow order. Collective in effect: the
  /// ranks that share edges must call it with the same arguments.
  void advance(std::int64_t first_round, std::int64_t last_round, double t_end);

  /// Per local node: gradient events (writable, for checkpoint restore).
  std::vector<std::uint64_t>& grad_events() { return grad_events_; }
  /// Per local node: communication events on edges whose lower end is the node (writable, for
  /// checkpoint restore; sums over nodes count every edge event once).
  std::vector<std::uint64_t>& comm_events() { return comm_events_; }
  /// Per local node: gradient events.
  const std::vector<std::uint64_t>& grad_events() const { return grad_events_; }
  /// Per local node: communication events on edges whose lower end is the node.
  const std::vector<std::uint64_t>& comm_events() const { return comm_events_; }
  /// Cross-rank exchanges this rank took part in, and how many times it found every pending
  /// event held and had to wait for a reply (for benchmarks).
  std::uint64_t cross_exchanges() const { return cross_exchanges_; }
  std::uint64_t waits() const { return waits_; }  ///< see cross_exchanges()

 private:
  /// A cross-rank exchange whose reply has not been used yet.
  struct Exchange {
    std::size_t event = 0;
    Index node = 0;  // the local end
    int peer = 0;
    bool active = false;  // posted, reply not used yet
    std::vector<double> send, recv;
    Request sent, received;
  };
  /// An event not run yet; `exchange` is its slot in exchanges_ once its half has been posted.
  struct Pending {
    std::size_t event = 0;
    std::size_t exchange = kNone;
  };
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);

  DadaoNode& node(Index i) { return nodes_[static_cast<std::size_t>(i - problem_.local_first())]; }
  std::size_t local(Index i) const { return static_cast<std::size_t>(i - problem_.local_first()); }
  void gradient_event(const Event& ev);
  void local_comm_event(const Event& ev, const Edge& e);
  std::size_t start_exchange(std::size_t index, const Edge& e);  // posts this rank's half
  void finish_exchange(std::size_t slot);                        // checks the reply, jumps
  bool sweep(bool overlap);  // one pass over pending_; true if anything progressed
  void wait_for_reply();     // until some exchange's reply has arrived (no busy MPI wait)
  void progress();           // drives MPI progress for the exchanges in flight
  void retire_sends(bool wait);

  GossipProblem& problem_;
  std::vector<DadaoNode>& nodes_;
  const DadaoOde& ode_;
  const DadaoConstants& c_;
  const EventSchedule& schedule_;
  bool compensate_;
  std::vector<Event> events_, round_events_;
  std::vector<Pending> pending_;
  std::vector<Exchange> exchanges_;  // slots; a finished slot is reused
  std::vector<std::size_t> free_slots_;
  std::vector<Exchange> retiring_;     // replies used, own sends maybe still in flight
  std::vector<char> held_;             // per local node, during a pass
  std::vector<char> u_here_, v_here_;  // per edge: its ends are on this rank
  std::vector<std::uint64_t> grad_events_, comm_events_;
  std::uint64_t cross_exchanges_ = 0, waits_ = 0;
  Vector g_, own_, other_;
};

}  // namespace distopt
