#pragma once
// Typed options of the federated round shared by every federated method (Ceres style: documented
// defaults, validate() naming the command-line key). The command line maps --participation,
// --clients-per-round, --local-steps, --local-epochs, --batch-size, --lr, --lr-decay, the server
// optimiser's and the compression options onto these in the run layer (federated_config.cpp); C++
// users fill them directly. The methods' own options (FedProxOptions, FedDynOptions,
// FedSpeedOptions) hold a FederatedOptions and live next to their method.
#include "distopt/compress/link_options.hpp"
#include "distopt/core/types.hpp"
#include "distopt/federated/client_sampler.hpp"
#include "distopt/federated/client_speed.hpp"
#include "distopt/federated/local_solver.hpp"
#include "distopt/federated/server_optimizer.hpp"

namespace distopt {

/// The options of FederatedRound (client sampling, local training, server step, links).
struct FederatedOptions {
  /// --participation: fraction q in (0, 1] of the N clients active per round,
  /// m = max(1, round(q N)) (default 1: every client). Must stay 1 when clients_per_round > 0.
  /// With sampling = kBernoulli, the probability p that each client is active.
  double participation = 1.0;
  /// --sampling: fixed (default; m clients without replacement) or bernoulli (each client
  /// independently with probability --participation; ClientSampler). Bernoulli takes no
  /// clients_per_round.
  SamplingScheme sampling = SamplingScheme::kFixed;
  /// --clients-per-round: m, the active clients per round, in [1, N]; 0 (default): use
  /// participation.
  Index clients_per_round = 0;
  /// --local-steps, --local-epochs, --batch-size, --clip-norm, --weight-decay: the clients' local
  /// schedule and step rule (defaults 10, 0, 0, 0, 0).
  LocalSchedule schedule{};
  /// --lr: local step size η_l > 0 of the first round (default 0.1).
  double lr = 0.1;
  /// --lr-decay: in (0, 1]; the local step size of round t is lr · lr_decay^{t−1} (default 1).
  double lr_decay = 1.0;
  /// --server-opt, --lr-global, --server-momentum, --server-beta1, --server-beta2, --server-tau.
  ServerOptimizerOptions server{};
  /// --compressor, --feedback, --wire-precision, --econtrol-eta: the clients' update uplink.
  UplinkOptions uplink{};
  /// --compressor-down, --wire-precision: the model downlink (EF21-P when compressed).
  DownlinkOptions downlink{};
  /// --client-speed: the clients' speeds s_i in local steps per unit of simulated time (default
  /// constant 1). The synchronous round reports its simulated duration max_{i∈S_t} τ_i in the
  /// metric virtual_time (round_clock.hpp); FedBuff and FedFix schedule their arrivals by it.
  ClientSpeedOptions speed{};

  /// Throws ConfigError naming the option (local-steps, local-epochs, batch-size, clip-norm,
  /// weight-decay, clients-per-round, participation, sampling, lr-global, server-*, lr, lr-decay,
  /// econtrol-eta, feedback, client-speed) when a value is out of range or clients_per_round and participation
  /// are both set. What needs the number of clients (clients_per_round <= N) and the model
  /// (compressor parameters) is checked when the method is built.
  void validate() const;
};

/// The sampler of `options` over n_clients: fixed-size (ClientSampler::per_round) or Bernoulli.
/// ConfigError naming the option as ClientSampler's constructors.
ClientSampler make_client_sampler(const FederatedOptions& options, Index n_clients,
                                  std::uint64_t seed);

}  // namespace distopt
