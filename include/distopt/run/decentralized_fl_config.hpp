#pragma once
// Config keys -> DecentralizedFLOptions (--algorithm dfedavg | dfedsam): the local schedule and
// step size of the federated family (--local-steps, --local-epochs, --batch-size, --lr,
// --lr-decay), the graph and gossip steps of the gossip family (--graph, --gossip-steps), and
// --sam-rho.
#include "distopt/federated/decentralized_fl.hpp"
#include "distopt/run/config.hpp"

namespace distopt {

/// Declares --sam-rho (the other keys are declared by the federated and gossip groups).
void add_decentralized_fl_options(po::options_description& d);
/// The options of dfedavg (`local` kSgd) or dfedsam (kSam); ConfigError naming the key. --sam-rho
/// is read only for dfedsam, so that dfedavg warns that it ignores a given --sam-rho.
DecentralizedFLOptions decentralized_fl_options_from(const Config& config,
                                                     DecentralizedLocalStep local);

}  // namespace distopt
