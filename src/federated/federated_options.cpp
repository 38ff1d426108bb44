#include "distopt/federated/federated_options.hpp"

#include "distopt/core/check.hpp"
#include "distopt/core/error.hpp"

namespace distopt {

void FederatedOptions::validate() const {
  schedule.validate();
  ClientSampler::validate_per_round(participation, clients_per_round);
  if (sampling == SamplingScheme::kBernoulli && clients_per_round > 0) {
    throw ConfigError("sampling",
                      "bernoulli draws each client with probability --participation; "
                      "--clients-per-round is for --sampling fixed");
  }
  server.validate();
  check::positive("lr", lr);
  check::in_range("lr-decay", lr_decay, 0.0, 1.0, /*lo_open=*/true);
  uplink.validate();
  downlink.validate();
  speed.validate();
}

ClientSampler make_client_sampler(const FederatedOptions& options, Index n_clients,
                                  std::uint64_t seed) {
  if (options.sampling == SamplingScheme::kBernoulli) {
    return ClientSampler::bernoulli(n_clients, options.participation, seed);
  }
  return ClientSampler(
      n_clients,
      ClientSampler::per_round(options.participation, options.clients_per_round, n_clients), seed);
}

}  // namespace distopt
