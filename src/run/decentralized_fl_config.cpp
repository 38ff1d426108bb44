#include "distopt/run/decentralized_fl_config.hpp"

#include "distopt/run/federated_config.hpp"

namespace distopt {

void add_decentralized_fl_options(po::options_description& d) {
  add_option(d, "sam-rho", "0.01",
             "dfedsam: SAM perturbation radius rho (local step at y + rho g/||g||)");
}

DecentralizedFLOptions decentralized_fl_options_from(const Config& c,
                                                     DecentralizedLocalStep local) {
  DecentralizedFLOptions o;
  o.schedule = local_schedule_from(c);
  o.lr = c.get_positive("lr");
  o.lr_decay = c.get_in("lr-decay", 0.0, 1.0, /*lo_open=*/true);
  o.graph = c.get("graph");
  o.gossip_steps = c.get_int_at_least("gossip-steps", 1);
  o.speed = ClientSpeedOptions::parse(c.get("client-speed"));
  if (local == DecentralizedLocalStep::kSam) o.sam_rho = c.get_nonnegative("sam-rho");
  o.validate();
  return o;
}

}  // namespace distopt
