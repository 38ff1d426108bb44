#include "distopt/gossip/virtual_time_engine.hpp"

#include <span>

#include "distopt/core/error.hpp"

namespace distopt {

namespace {
constexpr std::size_t kHeader = 3;  // round, edge, seq: the event id
}

VirtualTimeEngine::VirtualTimeEngine(GossipProblem& problem, std::vector<DadaoNode>& nodes,
                                     const DadaoOde& ode, const DadaoConstants& c,
                                     const EventSchedule& schedule, bool compensate)
    : problem_(problem), nodes_(nodes), ode_(ode), c_(c), schedule_(schedule), compensate_(compensate),
      grad_events_(static_cast<std::size_t>(problem.local_count()), 0),
      comm_events_(static_cast<std::size_t>(problem.local_count()), 0) {}

void VirtualTimeEngine::advance(std::int64_t round, double t_end) {
  schedule_.events(problem_.local_first(), problem_.local_count(), round, t_end, events_);
  for (const Event& ev : events_) {
    if (ev.kind == Event::kGradient) gradient_event(ev);
    else comm_event(ev);
  }
}

void VirtualTimeEngine::gradient_event(const Event& ev) {
  DadaoNode& nd = node(ev.key);
  nd.integrate(ev.t, ode_);
  const Vector x = nd.row(kX).transpose();
  problem_.gradient(ev.key, x, g_);
  nd.gradient_jump(g_, c_, compensate_ ? 1.0 / schedule_.node_rate(ev.key) : 1.0);
  ++grad_events_[local(ev.key)];
}

void VirtualTimeEngine::comm_event(const Event& ev) {
  const Edge& e = problem_.graph().edge(ev.key);
  const bool u_here = problem_.is_local(e.u), v_here = problem_.is_local(e.v);
  const Index d = nodes_.front().state().cols();
  NeighborExchange& channel = problem_.exchange();
  const auto bytes = static_cast<std::uint64_t>(d) * sizeof(double);
  if (u_here) ++comm_events_[local(e.u)];
  if (u_here && v_here) {
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
    return;
  }
  const Index mine = u_here ? e.u : e.v;
  const Index theirs = e.other(mine);
  const int peer = problem_.owner(theirs);
  DadaoNode& a = node(mine);
  a.integrate(ev.t, ode_);
  send_.resize(kHeader + static_cast<std::size_t>(d));
  recv_.resize(send_.size());
  send_[0] = static_cast<double>(ev.round);
  send_[1] = static_cast<double>(ev.key);
  send_[2] = static_cast<double>(ev.seq);
  a.message(Eigen::Map<Vector>(send_.data() + kHeader, d));
  // [event id, y+z] each way on the edge's tag; the id is protocol, the d values are payload.
  channel.exchange(std::span<const double>(send_), std::span<double>(recv_), peer,
                   channel.edge_tag(ev.key), {mine, kHeader});
  if (recv_[0] != send_[0] || recv_[1] != send_[1] || recv_[2] != send_[2]) {
    throw Error("DADAO virtual time: edge " + std::to_string(ev.key) + " expected event (" +
                std::to_string(ev.round) + ", " + std::to_string(ev.seq) + ") from rank " +
                std::to_string(peer) + " but got (" + std::to_string(recv_[0]) + ", " +
                std::to_string(recv_[2]) + ")");
  }
  a.comm_jump(Eigen::Map<const Vector>(send_.data() + kHeader, d),
              Eigen::Map<const Vector>(recv_.data() + kHeader, d), c_);
}

}  // namespace distopt
