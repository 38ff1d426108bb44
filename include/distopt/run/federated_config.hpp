#pragma once
// The federated family on the command line: its options (--participation, --clients-per-round,
// --sampling, --local-steps, --local-epochs, --clip-norm, --weight-decay, --lr-decay, --lr-global,
// --server-opt and its hyper-parameters, --prox-mu, --feddyn-alpha, --fedspeed-*), their mapping
// onto the federated layer's typed Options structs (the methods themselves are registered in
// run/method_registry.cpp). Every mapping throws ConfigError naming the option, with the
// command-line parser's wording, for a malformed or out-of-range value.
#include <memory>
#include <string>

#include "distopt/core/types.hpp"
#include "distopt/federated/feddyn.hpp"
#include "distopt/federated/federated_options.hpp"
#include "distopt/federated/fedprox.hpp"
#include "distopt/federated/fedspeed.hpp"
#include "distopt/federated/local_solver.hpp"
#include "distopt/federated/server_optimizer.hpp"
#include "distopt/method/algorithm.hpp"
#include "distopt/run/config.hpp"

namespace distopt {

/// Declares --participation, --clients-per-round, --local-steps, --local-epochs, --lr-decay,
/// --lr-global, --server-opt and its hyper-parameters, and each method's own options.
void add_federated_options(po::options_description& d);

/// --local-steps, --local-epochs, --batch-size. Also refuses --local-epochs > 0 together with an
/// explicitly given --local-steps (ConfigError("local-epochs", ...)).
LocalSchedule local_schedule_from(const Config& config);
/// --server-opt, --lr-global, --server-momentum, --server-beta1, --server-beta2, --server-tau.
ServerOptimizerOptions server_optimizer_options_from(const Config& config);
/// m, the active clients per round among n_clients, from --clients-per-round and
/// --participation (ClientSampler::per_round): ConfigError naming the option when out of range
/// (q outside (0, 1], m > N) or when both are given.
Index clients_per_round_from(const Config& config, Index n_clients);

/// Everything FederatedRound reads: the local schedule, the client sampling, --lr, --lr-decay, the
/// server optimiser, and the uplink and downlink (uplink_options_from, downlink_options_from).
/// Checks all but clients_per_round <= N, which needs the number of clients.
FederatedOptions federated_options_from(const Config& config);
/// federated_options_from and --prox-mu.
FedProxOptions fedprox_options_from(const Config& config);
/// federated_options_from and --feddyn-alpha.
FedDynOptions feddyn_options_from(const Config& config);
/// federated_options_from and --fedspeed-lambda, --fedspeed-rho, --fedspeed-alpha (set only when
/// given, so that its default follows --fedspeed-server), --fedspeed-normalize and
/// --fedspeed-server.
FedSpeedOptions fedspeed_options_from(const Config& config);
/// fedspeed_options_from for the alias fedspeed-sim: ConfigError("fedspeed-server", ...) unless
/// the server form is all.
FedSpeedOptions fedspeed_sim_options_from(const Config& config);

}  // namespace distopt
