#pragma once
// The asynchronous federated methods (fedbuff, fedfix) on the command line: their options
// (--client-speed, --buffer-size, --concurrency, --staleness, --fedbuff-weights,
// --aggregation-interval, --fedfix-weights; --clock is the gossip group's option, shared) and
// their mapping onto FedBuffOptions / FedFixOptions. Every mapping throws ConfigError naming the
// option for a malformed or out-of-range value.
#include "distopt/federated/fedbuff.hpp"
#include "distopt/federated/fedfix.hpp"
#include "distopt/run/config.hpp"

namespace distopt {

/// Declares the options above (all but --clock).
void add_async_federated_options(po::options_description& d);
/// federated_options_from (local schedule, --lr, --lr-decay, server optimiser, links),
/// --client-speed and --clock.
AsyncFederatedOptions async_federated_options_from(const Config& config);
/// async_federated_options_from and --buffer-size, --concurrency, --staleness, --fedbuff-weights.
FedBuffOptions fedbuff_options_from(const Config& config);
/// async_federated_options_from and --aggregation-interval, --fedfix-weights.
FedFixOptions fedfix_options_from(const Config& config);

}  // namespace distopt
