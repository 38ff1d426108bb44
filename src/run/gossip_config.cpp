#include "distopt/run/gossip_config.hpp"

#include "distopt/core/error.hpp"
#include "distopt/topology/graph_spec.hpp"

namespace distopt {

void add_gossip_options(po::options_description& d) {
  add_option(
      d, "graph", "ring",
      ("gossip network: " + graph_registry().choices() + " (n must equal --agents)").c_str());
  add_option(d, "clock", "virtual",
             "dadao, fedbuff, fedfix: virtual (exact, identical at any rank count) | wall (real "
             "time on real ranks)");
  add_option(d, "time",
             "dadao: virtual-time horizon T (one round = one unit of virtual time; sets --rounds "
             "to ceil(T)); fedbuff/fedfix: end at the first server update at or past T on their "
             "clock (simulated time units, or seconds with --clock wall; --rounds stays)");
  add_option(d, "time-scale", "0.01",
             "dadao --clock wall: seconds of wall time per unit of virtual time");
  add_option(
      d, "comm-rate", "theory",
      "dadao: total rate of communication events (theory = sqrt(2 chi1 chi2), the paper's rate)");
  add_option(d, "grad-rates", "uniform",
             "dadao: gradient clock rate per node: uniform (1 everywhere; in wall-clock mode a "
             "node that cannot keep "
             "up absorbs its missed events) | auto (with --clock wall and --slow-rank: 1/factor on "
             "the slow rank's "
             "nodes, otherwise 1) | <node>[-<node>]:<rate>,... (rate in (0,1], other nodes 1)");
  add_option(d, "rate-compensation", "off",
             "dadao: off = a node with a slow gradient clock makes the method's jumps (converges) "
             "| on = it scales "
             "its gradient jump by 1/rate (same expected drift as a rate-1 clock, but unstable: "
             "diverges; kept "
             "for experiments, see docs/results-gossip.md)");
  add_option(d, "gossip-steps", "1",
             "gossip: Metropolis gossip steps per round (Q > 1: multiple gossip steps)");
  add_option(d, "grad-cost", "0",
             "gossip methods, fedbuff/fedfix --clock wall: simulated seconds of compute per "
             "gradient (slept)");
  add_option(d, "slow-rank",
             "gossip methods, fedbuff/fedfix --clock wall: <rank>:<factor> makes that rank's "
             "gradients factor times slower");
}

GradientCostOptions gradient_cost_options_from(const Config& c) {
  GradientCostOptions o;
  o.grad_cost = c.get_nonnegative("grad-cost");
  const std::string slow = c.has("slow-rank") ? c.get("slow-rank") : "";
  if (!slow.empty()) {
    const auto parts = split(slow, ':');
    if (parts.size() != 2)
      throw ConfigError("slow-rank", "expected <rank>:<factor>, got '" + slow + "'");
    const auto r = parse_int("slow-rank", parts[0]);
    const double f = parse_double("slow-rank", parts[1]);
    // The rank is checked against the rank count when the GradientCost is built.
    if (r < 0) throw ConfigError("slow-rank", "rank " + parts[0] + " is negative");
    if (!(f >= 1))
      throw ConfigError("slow-rank", "slow-down factor must be at least 1, got " + parts[1]);
    o.slow_rank = r > 1'000'000'000 ? 1'000'000'000 : static_cast<int>(r);
    o.slow_factor = f;
  }
  o.validate();
  return o;
}

GossipOptions gossip_options_from(const Config& c) {
  GossipOptions o;
  o.graph = c.get("graph");
  o.cost = gradient_cost_options_from(c);
  o.validate();
  return o;
}

DadaoOptions dadao_options_from(const Config& c) {
  DadaoOptions o;
  o.gossip = gossip_options_from(c);
  o.clock = c.get_choice("clock", {"virtual", "wall"}) == "wall" ? DadaoClock::kWall
                                                                 : DadaoClock::kVirtual;
  if (c.has("time") && !c.get("time").empty()) o.time = c.get_positive("time");
  if (c.get("comm-rate") != "theory") o.comm_rate = c.get_positive("comm-rate");
  o.grad_rates = c.get("grad-rates");
  o.rate_compensation = c.get_choice("rate-compensation", {"on", "off"}) == "on";
  if (o.clock == DadaoClock::kWall) o.time_scale = c.get_positive("time-scale");
  o.validate();
  return o;
}

SyncGossipOptions sync_gossip_options_from(const Config& c) {
  SyncGossipOptions o;
  o.gossip = gossip_options_from(c);
  o.gossip_steps = c.get_int_at_least("gossip-steps", 1);
  if (c.get("lr") == "theory")
    o.lr.reset();
  else
    o.lr = c.get_positive("lr");
  o.validate();
  return o;
}

}  // namespace distopt
