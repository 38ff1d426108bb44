#include "distopt/gossip/wall_clock_engine.hpp"

#include <algorithm>
#include <cmath>
#include <thread>

#include "distopt/core/error.hpp"
#include "distopt/core/wait_without_spinning.hpp"

namespace distopt {

namespace {
// edge, round, seq, then: request = τ, the exchange's time (the initiator's node time when it
// sent); reply = τ again, or −1 when the responder declined
constexpr std::size_t kHeader = 4;
// A request whose time τ is further than this (units of virtual time) from the responder's node
// time is declined: a later correction over-corrects (the header: the consensus correction runs
// at about 3 per unit of time on the ring of 16, so a few tenths of a unit is already late).
constexpr double kMaxStaleness = 0.25;
constexpr std::size_t kNone = static_cast<std::size_t>(-1);
// Message kinds on the neighbour channel: a request carries the initiator's y+z, the reply the
// responder's.
constexpr int kRequest = 1;
constexpr int kReply = 2;
}  // namespace

WallClockEngine::WallClockEngine(GossipProblem& problem, std::vector<DadaoNode>& nodes,
                                 const DadaoOde& ode, const DadaoConstants& c,
                                 const EventSchedule& schedule, double time_scale, bool compensate)
    : problem_(problem),
      nodes_(nodes),
      ode_(ode),
      c_(c),
      schedule_(schedule),
      scale_(time_scale),
      compensate_(compensate),
      latest_due_grad_(static_cast<std::size_t>(problem.local_count()), kNone),
      grad_events_(static_cast<std::size_t>(problem.local_count()), 0),
      comm_events_(static_cast<std::size_t>(problem.local_count()), 0),
      in_flight_(static_cast<std::size_t>(problem.graph().edge_count()), 0),
      deferred_(static_cast<std::size_t>(problem.graph().edge_count())) {}

void WallClockEngine::start() {
  problem_.ctx().comm.barrier();
  t0_ = std::chrono::steady_clock::now();
  paused_ = 0;
  pause_start_.reset();
}

double WallClockEngine::now() const {
  const auto t = pause_start_ ? *pause_start_ : std::chrono::steady_clock::now();
  return (std::chrono::duration<double>(t - t0_).count() - paused_) / scale_;
}

void WallClockEngine::send(int dest, int kind, std::vector<double> buf, Index from) {
  NeighborExchange& channel = problem_.exchange();
  sends_.push_back({std::move(buf), Request()});
  sends_.back().req = channel.isend(std::span<const double>(sends_.back().buf), dest,
                                    channel.kind_tag(kind), {from, kHeader});
}

void WallClockEngine::reap_sends(bool wait) {
  while (!sends_.empty()) {
    if (wait)
      sends_.front().req.wait();
    else if (!sends_.front().req.test())
      break;
    sends_.pop_front();
  }
}

bool WallClockEngine::poll() {
  NeighborExchange& channel = problem_.exchange();
  const Index d = nodes_.front().state().cols();
  const int request_tag = channel.kind_tag(kRequest), reply_tag = channel.kind_tag(kReply);
  bool any = false;
  MessageInfo info;
  while (channel.iprobe(info)) {
    if (info.tag != request_tag && info.tag != reply_tag) {
      throw Error("DADAO wall clock: unexpected message tag " + std::to_string(info.tag));
    }
    any = true;
    recv_.assign(info.bytes / sizeof(double), 0.0);
    channel.recv(std::span<double>(recv_), info.source, info.tag);
    if (recv_.size() < kHeader) throw Error("DADAO wall clock: short message");
    const auto edge = static_cast<Index>(recv_[0]);
    const auto round = static_cast<std::int64_t>(recv_[1]);
    const auto seq = static_cast<std::uint32_t>(recv_[2]);
    const Edge& e = problem_.graph().edge(edge);
    const Eigen::Map<const Vector> theirs(recv_.data() + kHeader,
                                          static_cast<Index>(recv_.size() - kHeader));
    if (info.tag == request_tag) {
      // Responder: the exchange happens at τ, the initiator's time. Our message is our state
      // carried by the flow to τ (forward if we are behind, backward if ahead), and our jump is
      // made as if at τ (comm_jump_aged, age = our node time − τ, either sign), so both halves
      // compare y+z at the same time and cancel in Σ z, Σ z̃. Nothing is integrated: our own
      // events keep the spacing of our schedule. Decline when τ is too far from our time.
      DadaoNode& b = node(e.v);
      std::vector<double> out(kHeader + static_cast<std::size_t>(d), 0.0);
      std::copy(recv_.begin(), recv_.begin() + 3, out.begin());
      const double tau = recv_[3];
      const double age = b.last_event() - tau;
      const bool accept = std::abs(age) <= kMaxStaleness;
      out[3] = accept ? tau : -1.0;
      if (accept) {
        auto mine = Eigen::Map<Vector>(out.data() + kHeader, d);
        b.message_at(tau, ode_, mine);
        b.comm_jump_aged(mine, theirs, c_, ode_, age);
      } else {
        out.resize(kHeader);
      }
      // An accepted reply carries b's y+z (counted to b); a declined one only the header.
      send(info.source, kReply, std::move(out), accept ? e.v : PeerMessage::kNoAgent);
    } else {
      auto it = outstanding_.find({edge, round, seq});
      if (it == outstanding_.end()) throw Error("DADAO wall clock: reply to an unknown request");
      if (recv_[3] >= 0) {
        // Jump as if at τ (when we sent), carried to our node time by the linear flow.
        DadaoNode& a = node(e.u);
        a.comm_jump_aged(it->second, theirs, c_, ode_, a.last_event() - recv_[3]);
        ++comm_events_[local(e.u)];
      } else {
        ++declined_;
      }
      outstanding_.erase(it);
      ++replies_received_;
      in_flight_[static_cast<std::size_t>(edge)] = 0;
      if (auto& later = deferred_[static_cast<std::size_t>(edge)]) {
        const Event ev = *later;
        later.reset();
        initiate(ev);  // the deferred event of this edge, with the state after this exchange
      }
    }
  }
  return any;
}

void WallClockEngine::process(const Event& ev) {
  // Every event is carried out at its own time ev.t (the node's time is never behind it: events
  // run in time order), not at "now": a rank that fell behind replays its events with the spacing
  // of its schedule, the linear flow running between them as in virtual time.
  if (ev.kind == Event::kGradient) {
    const std::size_t k = local(ev.key);
    latest_due_grad_[k] = kNone;
    DadaoNode& a = node(ev.key);
    a.integrate(std::max(ev.t, a.last_event()), ode_);
    const Vector x = a.row(kX).transpose();
    problem_.gradient(ev.key, x, g_);
    a.gradient_jump(g_, c_, compensate_ ? 1.0 / schedule_.node_rate(ev.key) : 1.0);
    ++grad_events_[k];
    return;
  }
  const Edge& e = problem_.graph().edge(ev.key);
  const bool u_here = problem_.is_local(e.u), v_here = problem_.is_local(e.v);
  if (!u_here) return;  // the owner of the lower end initiates
  const Index d = nodes_.front().state().cols();
  const auto bytes = static_cast<std::uint64_t>(d) * sizeof(double);
  NeighborExchange& channel = problem_.exchange();
  if (v_here) {
    DadaoNode& a = node(e.u);
    const double t = std::max(ev.t, a.last_event());
    a.integrate(t, ode_);
    own_.resize(d);
    a.message(own_);
    channel.count_in_memory(e.u, bytes);
    DadaoNode& b = node(e.v);
    b.integrate(std::max(t, b.last_event()), ode_);
    other_.resize(d);
    b.message(other_);
    a.comm_jump(own_, other_, c_);
    b.comm_jump(other_, own_, c_);
    channel.count_in_memory(e.v, bytes);
    ++comm_events_[local(e.u)];
    return;
  }
  if (in_flight_[static_cast<std::size_t>(ev.key)]) {
    // One exchange per edge at a time: defer this event until the reply (later ones merge into it).
    auto& later = deferred_[static_cast<std::size_t>(ev.key)];
    if (later)
      ++merged_;
    else
      later = ev;
    return;
  }
  initiate(ev);
}

void WallClockEngine::initiate(const Event& ev) {
  const Edge& e = problem_.graph().edge(ev.key);
  const Index d = nodes_.front().state().cols();
  DadaoNode& a = node(e.u);
  // At the event's time; a deferred event starts when the previous reply arrives, at the node's
  // time then.
  const double t = std::max(ev.t, a.last_event());
  a.integrate(t, ode_);
  own_.resize(d);
  a.message(own_);
  std::vector<double> out(kHeader + static_cast<std::size_t>(d));
  out[0] = static_cast<double>(ev.key);
  out[1] = static_cast<double>(ev.round);
  out[2] = static_cast<double>(ev.seq);
  out[3] = t;
  std::copy(own_.data(), own_.data() + d, out.begin() + kHeader);
  outstanding_[{ev.key, ev.round, ev.seq}] = own_;
  send(problem_.owner(e.v), kRequest, std::move(out), e.u);  // a's y+z, counted to a
  ++requests_sent_;
  in_flight_[static_cast<std::size_t>(ev.key)] = 1;
}

void WallClockEngine::advance(std::int64_t round, double t_end) {
  if (pause_start_) {  // the clocks stood still since the last drain began
    paused_ +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - *pause_start_).count();
    pause_start_.reset();
  }
  // Append this round's clock events behind the ones still pending (all earlier). Gradient and
  // communication events wait in two queues: a rank that has fallen behind (a straggler) serves
  // its due exchanges first (they are cheap, and late exchanges would be declined), then one due
  // gradient at a time.
  schedule_.events(problem_.local_first(), problem_.local_count(), round, t_end, fresh_);
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(head_));
  for (auto& i : latest_due_grad_) {
    if (i != kNone) i -= head_;
  }
  due_end_ -= head_;
  head_ = 0;
  comm_queue_.erase(comm_queue_.begin(),
                    comm_queue_.begin() + static_cast<std::ptrdiff_t>(comm_head_));
  comm_head_ = 0;
  for (const Event& ev : fresh_)
    (ev.kind == Event::kGradient ? pending_ : comm_queue_).push_back(ev);

  const double deadline = std::min(static_cast<double>(round), t_end);
  while (true) {
    const double tv = now();
    if (tv >= deadline) break;
    bool worked = poll();
    // Mark the newly due gradient events; remember each node's latest due one.
    while (due_end_ < pending_.size() && pending_[due_end_].t <= tv) {
      latest_due_grad_[local(pending_[due_end_].key)] = due_end_;
      ++due_end_;
    }
    // The due events in time order (both queues merged), at most one gradient computed per pass
    // (gradients may be slow: messages are polled between them). A due gradient event of a node
    // that has a later one due is absorbed here at no cost: absorbing only one per pass starved a
    // rank that had fallen behind (FINDINGS G2).
    bool computed = false;
    while (true) {
      while (head_ < due_end_ && latest_due_grad_[local(pending_[head_].key)] != head_) {
        ++absorbed_;  // a later gradient of this node is already due: this one is absorbed
        ++head_;
      }
      const bool comm_due = comm_head_ < comm_queue_.size() && comm_queue_[comm_head_].t <= tv;
      const bool grad_due = head_ < due_end_;
      if (!comm_due && !grad_due) break;
      if (grad_due && (!comm_due || pending_[head_] < comm_queue_[comm_head_])) {
        if (computed) break;
        computed = true;
        process(pending_[head_++]);
      } else {
        process(comm_queue_[comm_head_++]);
      }
      worked = true;
    }
    reap_sends(false);
    if (!worked) {
      // Idle until the next event or a short polling interval, whichever comes first.
      double next = deadline;
      if (head_ < pending_.size()) next = std::min(next, pending_[head_].t);
      if (comm_head_ < comm_queue_.size()) next = std::min(next, comm_queue_[comm_head_].t);
      const double wait = std::clamp((next - tv) * scale_, 0.0, 2e-4);
      std::this_thread::sleep_for(std::chrono::duration<double>(wait));
    }
  }
  // Drain: serve until every request of every rank has been answered. The clocks stop here and
  // restart at the next advance(), so the drain and the Trainer's evaluation cost no virtual time
  // (every rank leaves the drain's last allreduce together, so the clocks stay aligned).
  // The clocks stop AT the deadline, not at the moment this rank noticed it: a rank that was
  // descheduled (or busy with a slow gradient) across the deadline would otherwise carry its
  // overshoot into every later round, and the ranks' clocks drifted apart by many units of virtual
  // time (measured: 14 units after 150 rounds at load ~15, np 4), which made exchanges compare
  // states of different times. Its events past the deadline belong to the next round anyway.
  pause_start_ = std::chrono::steady_clock::now();
  paused_ += std::max(0.0, now() - deadline) * scale_;
  // Termination without a busy collective (the nonblocking-barrier scheme of Hoefler et al.'s
  // NBX): a rank serves until its own requests are answered, then enters a nonblocking barrier
  // and goes on serving the others' requests until every rank has entered it. A rank sends no new
  // request after entering (a deferred exchange starts only when a reply arrives, and none is
  // due), so when the barrier completes every request of every rank has been answered.
  Communicator& comm = problem_.ctx().comm;
  wait_without_spinning([&] {
    poll();
    reap_sends(false);
    return requests_sent_ == replies_received_;
  });
  Request all_answered = comm.ibarrier();
  wait_without_spinning([&] {
    poll();
    reap_sends(false);
    return all_answered.test();
  });
  reap_sends(true);
}

}  // namespace distopt
