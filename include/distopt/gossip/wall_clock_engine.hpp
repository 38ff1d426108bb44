#pragma once
// Real asynchrony (--clock wall): every rank runs its nodes' Poisson clocks against the wall
// clock, one unit of virtual time lasting --time-scale seconds. The clocks are the same streams as
// in virtual time (EventSchedule); an event is executed when the wall clock passes its time, at the
// actual current time (the ODE is integrated up to "now"). Nothing waits for a slow node:
//   * a gradient event that falls due while its node still has an earlier due gradient pending is
//     absorbed (a busy node cannot compute two gradients at once), so a straggler simply takes
//     fewer gradient steps;
//   * a communication event on an edge whose ends live on two ranks is initiated by the owner of
//     the lower end: it sends [edge, id, time, y_i+z_i] and goes on with its other events; the
//     other side, whenever it polls, integrates its node to its own now, jumps with the
//     initiator's message and replies with its y_j+z_j; the initiator jumps when the reply
//     arrives, with the y_i+z_i it sent (a delayed exchange, as in a real deployment). Both jumps
//     use the same m, and the initiator's is applied as if made at the responder's jump time and
//     carried to now by the linear flow (DadaoNode::comm_jump_aged), so the two halves cancel in
//     Σ z and Σ z̃ as in the exact method: without this, β̃ = 2 χ1* √(L/ν) (about 50 on a path
//     of 16) times a few milliseconds of imbalance was enough to make the run diverge;
//   * an edge has at most one exchange in flight: an edge event that fires while the edge's
//     previous request awaits its reply is deferred until that reply (further ones merge into it,
//     counted as skipped). Overlapping exchanges on one edge each correct the same stale
//     difference m, so together they over-correct z and z̃ (β̃ is large): with delays of a few
//     tenths of a time unit (a busy straggler, a loaded machine) that made runs diverge, with or
//     without a straggler. Limiting exchanges per NODE instead was tried and also diverged: it
//     lowers the rate of every edge next to a busy node below the λ_c/|E| that β̃ is tuned for;
//     a deferred edge event keeps the edge's rate, only late;
//   * a responder declines a request more than one unit of virtual time old (the initiator then
//     drops the event).
//   * Gradient clocks may run at per-node rates (--grad-rates); in virtual time DADAO converges
//     with heterogeneous rates and the method's jumps (test_gossip_dadao.cpp), so a straggler's
//     node that absorbs missed gradient events needs no change of constants.
// Messages progress through nonblocking sends and Iprobe/receive polling between events. At the
// end of every round (the Trainer's evaluation point) ranks drain the exchanges still in flight:
// each serves until its own requests are answered, then enters a nonblocking barrier and serves
// the others until every rank is in it (waiting without busy polling, core/wait_without_spinning.hpp), so
// no message outlives a round and the run always terminates; the clocks stand still from the drain
// to the next round, so the drain and the Trainer's evaluation cost no virtual time. Results depend
// on timing: they are not reproducible bit for bit (virtual time is).
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <tuple>
#include <vector>

#include "distopt/comm/communicator.hpp"
#include "distopt/comm/neighbor_exchange.hpp"
#include "distopt/gossip/dadao_node.hpp"
#include "distopt/gossip/event_schedule.hpp"
#include "distopt/gossip/gossip_problem.hpp"

namespace distopt {

/// Runs DADAO's events of this rank's nodes against the wall clock (see above).
class WallClockEngine {
 public:
  /// As VirtualTimeEngine's, with `time_scale` seconds of wall time per unit of virtual time
  /// (--time-scale).
  WallClockEngine(GossipProblem& problem, std::vector<DadaoNode>& nodes, const DadaoOde& ode,
                  const DadaoConstants& c, const EventSchedule& schedule, double time_scale,
                  bool compensate = false);
  /// Collective: synchronises the ranks' clocks (virtual time 0 = now).
  void start();
  /// Runs in real time until virtual time min(round, t_end), then drains (collective).
  void advance(std::int64_t round, double t_end);
  /// Virtual time on this rank's clock.
  double now() const;

  /// Per local node: gradient events carried out.
  std::vector<std::uint64_t>& grad_events() { return grad_events_; }
  /// Per local node: communication events on edges whose lower end is the node.
  std::vector<std::uint64_t>& comm_events() { return comm_events_; }
  /// Gradient events of this rank absorbed because the node still had one pending.
  std::uint64_t absorbed_gradients() const { return absorbed_; }
  /// Communication events not carried out: the responder declined a request more than one unit
  /// of virtual time old, or the edge fired more than once while an exchange was in flight.
  std::uint64_t skipped_exchanges() const { return declined_ + merged_; }

 private:
  struct Outgoing {
    std::vector<double> buf;
    Request req;
  };
  DadaoNode& node(Index i) { return nodes_[local(i)]; }
  std::size_t local(Index i) const { return static_cast<std::size_t>(i - problem_.local_first()); }
  void process(const Event& ev, std::size_t index);
  void initiate(const Event& ev);  // sends the request of a cross-rank exchange
  bool poll();  // handles every arrived message; true if any
  /// Posts `buf` (header + payload) to rank `dest` as a message of `kind`; its payload counts as
  /// peer traffic of local node `from` (PeerMessage::kNoAgent: not counted).
  void send(int dest, int kind, std::vector<double> buf, Index from);
  void reap_sends(bool wait);

  GossipProblem& problem_;
  std::vector<DadaoNode>& nodes_;
  const DadaoOde& ode_;
  const DadaoConstants& c_;
  const EventSchedule& schedule_;
  double scale_;
  bool compensate_;
  std::chrono::steady_clock::time_point t0_;
  double paused_ = 0;  // seconds the clocks stood still (drains and evaluations)
  std::optional<std::chrono::steady_clock::time_point> pause_start_;
  std::vector<Event> pending_, comm_queue_, fresh_;  // gradient events, communication events
  std::size_t head_ = 0, due_end_ = 0, comm_head_ = 0;
  std::vector<std::size_t> latest_due_grad_;  // per local node: index in pending_
  std::map<std::tuple<Index, std::int64_t, std::uint32_t>, Vector> outstanding_;  // sent y+z by event
  std::deque<Outgoing> sends_;
  std::int64_t requests_sent_ = 0, replies_received_ = 0;
  std::vector<std::uint64_t> grad_events_, comm_events_;
  std::uint64_t absorbed_ = 0, declined_ = 0, merged_ = 0;
  std::vector<char> in_flight_;                // per edge: a request awaits its reply
  std::vector<std::optional<Event>> deferred_;  // per edge: the event waiting for that reply
  Vector g_, own_, other_;
  std::vector<double> recv_;
};

}  // namespace distopt
