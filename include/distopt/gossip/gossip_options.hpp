#pragma once
// The gossip family in the method registry: --algorithm dadao | gossip and their options.
#include <memory>
#include <string>

#include "distopt/method/algorithm.hpp"

namespace distopt {

/// --graph, --clock, --time, --time-scale, --comm-rate, --grad-rates, --rate-compensation,
/// --gossip-steps, --grad-cost, --slow-rank.
void add_gossip_options(po::options_description& d);
/// "dadao" or "gossip"; nullptr for other names.
std::unique_ptr<Algorithm> make_gossip_method(const std::string& name, RunContext& ctx);

}  // namespace distopt
