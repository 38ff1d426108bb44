#include "distopt/gossip/virtual_time_engine.hpp"

#include <span>

#include "distopt/comm/neighbor_exchange.hpp"
#include "distopt/core/error.hpp"
#include "distopt/core/wait_without_spinning.hpp"

namespace distopt {

namespace {
constexpr std::size_t kHeader = 3;  // round, edge, seq: the event id
// While a pass runs local events, test the exchanges in flight every kProgressEvery events, so
// that large (rendezvous) messages keep moving for the partner.
constexpr int kProgressEvery = 16;
}  // namespace

VirtualTimeEngine::VirtualTimeEngine(GossipProblem& problem, std::vector<DadaoNode>& nodes,
                                     const DadaoOde& ode, const DadaoConstants& c,
                                     const EventSchedule& schedule, bool compensate)
    : problem_(problem),
      nodes_(nodes),
      ode_(ode),
      c_(c),
      schedule_(schedule),
      compensate_(compensate),
      held_(static_cast<std::size_t>(problem.local_count()), 0),
      grad_events_(static_cast<std::size_t>(problem.local_count()), 0),
      comm_events_(static_cast<std::size_t>(problem.local_count()), 0) {
  const Graph& g = problem.graph();
  for (Index e = 0; e < g.edge_count(); ++e) {
    u_here_.push_back(problem.is_local(g.edge(e).u) ? 1 : 0);
    v_here_.push_back(problem.is_local(g.edge(e).v) ? 1 : 0);
  }
}

void VirtualTimeEngine::advance(std::int64_t first_round, std::int64_t last_round, double t_end) {
  events_.clear();
  for (std::int64_t r = first_round; r <= last_round; ++r) {
    // Each round's events lie in (r−1, r] and are sorted: the concatenation is sorted.
    schedule_.events(problem_.local_first(), problem_.local_count(), r, t_end, round_events_);
    events_.insert(events_.end(), round_events_.begin(), round_events_.end());
  }
  pending_.resize(events_.size());
  for (std::size_t k = 0; k < events_.size(); ++k) pending_[k] = {k, kNone};
  // Overlapping exchanges need a tag per edge (see the header).
  const bool overlap = problem_.graph().edge_count() <= NeighborExchange::kEdgeTagSpan;
  while (!pending_.empty()) {
    if (!sweep(overlap)) wait_for_reply();
  }
  retire_sends(true);
}

bool VirtualTimeEngine::sweep(bool overlap) {
  std::fill(held_.begin(), held_.end(), 0);
  bool progressed = false, hold_all = false;
  int since_progress = 0;
  std::size_t keep = 0;
  for (std::size_t k = 0; k < pending_.size(); ++k) {
    Pending p = pending_[k];
    const Event& ev = events_[p.event];
    bool done = false;
    if (ev.kind == Event::kGradient) {
      const std::size_t i = local(ev.key);
      if (!hold_all && !held_[i]) {
        gradient_event(ev);
        done = true;
      } else {
        held_[i] = 1;
      }
    } else {
      const Edge& e = problem_.graph().edge(ev.key);
      const bool u_here = u_here_[static_cast<std::size_t>(ev.key)] != 0;
      const bool v_here = v_here_[static_cast<std::size_t>(ev.key)] != 0;
      const bool blocked =
          hold_all || (u_here && held_[local(e.u)]) || (v_here && held_[local(e.v)]);
      if (!blocked) {
        if (u_here && v_here) {
          local_comm_event(ev, e);
          done = true;
        } else {
          if (p.exchange == kNone) {
            p.exchange = start_exchange(p.event, e);
            progressed = true;
          }
          if (exchanges_[p.exchange].received.test()) {
            finish_exchange(p.exchange);
            done = true;
          }
        }
      }
      if (!done) {
        if (u_here) held_[local(e.u)] = 1;
        if (v_here) held_[local(e.v)] = 1;
        if (!overlap && p.exchange != kNone) hold_all = true;  // strict order: nothing passes it
      }
    }
    if (done) {
      progressed = true;
      if (++since_progress == kProgressEvery) {
        since_progress = 0;
        progress();
      }
      continue;
    }
    pending_[keep++] = p;
  }
  pending_.resize(keep);
  return progressed;
}

void VirtualTimeEngine::gradient_event(const Event& ev) {
  DadaoNode& nd = node(ev.key);
  nd.integrate(ev.t, ode_);
  const Vector x = nd.row(kX).transpose();
  problem_.gradient(ev.key, x, g_);
  nd.gradient_jump(g_, c_, compensate_ ? 1.0 / schedule_.node_rate(ev.key) : 1.0);
  ++grad_events_[local(ev.key)];
}

void VirtualTimeEngine::local_comm_event(const Event& ev, const Edge& e) {
  const Index d = nodes_.front().state().cols();
  const auto bytes = static_cast<std::uint64_t>(d) * sizeof(double);
  NeighborExchange& channel = problem_.exchange();
  ++comm_events_[local(e.u)];
  DadaoNode& a = node(e.u);
  DadaoNode& b = node(e.v);
  a.integrate(ev.t, ode_);
  b.integrate(ev.t, ode_);
  own_.resize(d);
  other_.resize(d);
  a.message(own_);
  b.message(other_);
  a.comm_jump(own_, other_, c_);
  b.comm_jump(other_, own_, c_);
  channel.count_in_memory(e.u, bytes);
  channel.count_in_memory(e.v, bytes);
}

std::size_t VirtualTimeEngine::start_exchange(std::size_t index, const Edge& e) {
  const Event& ev = events_[index];
  const Index d = nodes_.front().state().cols();
  NeighborExchange& channel = problem_.exchange();
  std::size_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = exchanges_.size();
    exchanges_.emplace_back();
  }
  Exchange& x = exchanges_[slot];
  x.event = index;
  x.active = true;
  x.node = problem_.is_local(e.u) ? e.u : e.v;
  x.peer = problem_.owner(e.other(x.node));
  if (problem_.is_local(e.u)) ++comm_events_[local(e.u)];
  DadaoNode& a = node(x.node);
  a.integrate(ev.t, ode_);
  x.send.resize(kHeader + static_cast<std::size_t>(d));
  x.recv.resize(x.send.size());
  x.send[0] = static_cast<double>(ev.round);
  x.send[1] = static_cast<double>(ev.key);
  x.send[2] = static_cast<double>(ev.seq);
  a.message(Eigen::Map<Vector>(x.send.data() + kHeader, d));
  // [event id, y+z] each way on the edge's tag; the id is protocol, the d values are payload.
  const int tag = channel.edge_tag(ev.key);
  x.received = channel.irecv(std::span<double>(x.recv), x.peer, tag);
  x.sent = channel.isend(std::span<const double>(x.send), x.peer, tag, {x.node, kHeader});
  ++cross_exchanges_;
  return slot;
}

void VirtualTimeEngine::finish_exchange(std::size_t slot) {
  Exchange& x = exchanges_[slot];
  const Event& ev = events_[x.event];
  if (x.recv[0] != x.send[0] || x.recv[1] != x.send[1] || x.recv[2] != x.send[2]) {
    throw Error("DADAO virtual time: edge " + std::to_string(ev.key) + " expected event (" +
                std::to_string(ev.round) + ", " + std::to_string(ev.seq) + ") from rank " +
                std::to_string(x.peer) + " but got (" + std::to_string(x.recv[0]) + ", " +
                std::to_string(x.recv[2]) + ")");
  }
  const Index d = nodes_.front().state().cols();
  node(x.node).comm_jump(Eigen::Map<const Vector>(x.send.data() + kHeader, d),
                         Eigen::Map<const Vector>(x.recv.data() + kHeader, d), c_);
  x.active = false;
  // The send buffer must live until the send completes; the partner has posted its receive, so
  // it will, but need not have yet (a large message moves as the partner progresses).
  if (!x.sent.test()) {
    retiring_.push_back(std::move(x));
    x = Exchange();
  }
  free_slots_.push_back(slot);
}

void VirtualTimeEngine::progress() {
  for (Exchange& x : exchanges_) {
    if (x.received.pending()) x.received.test();
    if (x.sent.pending()) x.sent.test();
  }
  retire_sends(false);
}

void VirtualTimeEngine::retire_sends(bool wait) {
  std::size_t keep = 0;
  for (std::size_t k = 0; k < retiring_.size(); ++k) {
    Exchange& x = retiring_[k];
    if (wait) {
      wait_without_spinning([&] { return x.sent.test(); });
    } else if (!x.sent.test()) {
      if (keep != k) retiring_[keep] = std::move(x);
      ++keep;
    }
  }
  retiring_.resize(keep);
}

void VirtualTimeEngine::wait_for_reply() {
  ++waits_;
  wait_without_spinning([&] {
    for (Exchange& x : exchanges_) {
      if (x.active && x.received.test()) return true;
    }
    for (Exchange& x : exchanges_) {
      if (x.sent.pending()) x.sent.test();
    }
    retire_sends(false);
    return false;
  });
}

}  // namespace distopt
