#pragma once
// Config keys -> the gossip family's typed options (--graph, --grad-cost, --slow-rank, --clock,
// --time, --time-scale, --comm-rate, --grad-rates, --rate-compensation, --gossip-steps, --lr), and
// the family's entry in the method registry: --algorithm dadao | gossip.
#include <memory>
#include <string>

#include "distopt/gossip/dadao.hpp"
#include "distopt/gossip/sync_gossip.hpp"
#include "distopt/method/algorithm.hpp"
#include "distopt/run/config.hpp"

namespace distopt {

/// Declares --graph, --clock, --time, --time-scale, --comm-rate, --grad-rates,
/// --rate-compensation, --gossip-steps, --grad-cost, --slow-rank (--lr is a common option).
void add_gossip_options(po::options_description& d);
/// --grad-cost and --slow-rank `<rank>:<factor>` as GradientCostOptions; ConfigError naming the
/// key.
GradientCostOptions gradient_cost_options_from(const Config& config);
/// --graph and the gradient cost.
GossipOptions gossip_options_from(const Config& config);
/// DADAO's options (--time-scale is read only with --clock wall).
DadaoOptions dadao_options_from(const Config& config);
/// Synchronous gossip's options (--lr: a number or 'theory').
SyncGossipOptions sync_gossip_options_from(const Config& config);

}  // namespace distopt
