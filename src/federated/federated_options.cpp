#include "distopt/federated/federated_options.hpp"

#include "distopt/core/check.hpp"
#include "distopt/federated/client_sampler.hpp"

namespace distopt {

void FederatedOptions::validate() const {
  schedule.validate();
  ClientSampler::validate_per_round(participation, clients_per_round);
  server.validate();
  check::positive("lr", lr);
  check::in_range("lr-decay", lr_decay, 0.0, 1.0, /*lo_open=*/true);
  uplink.validate();
  downlink.validate();
}

}  // namespace distopt
