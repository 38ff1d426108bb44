#include "distopt/run/async_federated_config.hpp"

#include "distopt/run/federated_config.hpp"
#include "distopt/run/gossip_config.hpp"

namespace distopt {

void add_async_federated_options(po::options_description& d) {
  add_option(d, "buffer-size", "10", "fedbuff: arrivals K buffered per server update");
  add_option(d, "concurrency", "0", "fedbuff: clients in flight (0: all clients)");
  add_option(d, "staleness", "sqrt",
             "fedbuff: staleness weight s(tau): sqrt = 1/sqrt(1+tau) | constant | poly:A = "
             "(1+tau)^-A");
  add_option(d, "fedbuff-weights", "uniform",
             "fedbuff: buffer weights: uniform = 1/K (the paper) | data = p_i / sum of the "
             "buffer's p_j");
  add_option(d, "aggregation-interval", "1",
             "fedfix: time between aggregations (Delta t): simulated time units with --clock "
             "virtual, seconds with --clock wall");
  add_option(d, "fedfix-weights", "ceil",
             "fedfix: aggregation weights: ceil = ceil(tau_i/Delta t) p_i (unbiased) | uniform = "
             "p_i (biased towards fast clients)");
}

AsyncFederatedOptions async_federated_options_from(const Config& c) {
  AsyncFederatedOptions o;
  o.federated = federated_options_from(c);
  o.clock = c.get_choice("clock", {"virtual", "wall"}) == "wall" ? AsyncClock::kWall
                                                                 : AsyncClock::kVirtual;
  o.cost = gradient_cost_options_from(c);  // --grad-cost, --slow-rank (wall clock only)
  if (c.has("time") && !c.get("time").empty()) o.time_budget = c.get_positive("time");
  return o;
}

FedBuffOptions fedbuff_options_from(const Config& c) {
  FedBuffOptions o;
  o.async = async_federated_options_from(c);
  o.buffer_size = c.get_int_at_least("buffer-size", 1);
  o.concurrency = c.get_int_at_least("concurrency", 0);
  o.staleness = StalenessWeight::parse(c.get("staleness"));
  o.weights = c.get_choice("fedbuff-weights", {"uniform", "data"}) == "data"
                  ? FedBuffWeights::kData
                  : FedBuffWeights::kUniform;
  o.validate();
  return o;
}

FedFixOptions fedfix_options_from(const Config& c) {
  FedFixOptions o;
  o.async = async_federated_options_from(c);
  o.interval = c.get_positive("aggregation-interval");
  o.weights = c.get_choice("fedfix-weights", {"ceil", "uniform"}) == "uniform"
                  ? FedFixWeights::kUniform
                  : FedFixWeights::kCeil;
  o.validate();
  return o;
}

}  // namespace distopt
