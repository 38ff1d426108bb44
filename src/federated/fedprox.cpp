#include "distopt/federated/fedprox.hpp"

#include "distopt/core/check.hpp"

namespace distopt {

namespace {
const FedProxOptions& validated(const FedProxOptions& options) {
  options.validate();
  return options;
}
}  // namespace

void FedProxOptions::validate() const {
  federated.validate();
  check::nonnegative("prox-mu", mu);
}

FedProx::FedProx(RunContext& ctx, FedProxOptions options)
    : FederatedRound(ctx, "fedprox", validated(options).federated), mu_(options.mu) {}

int FedProx::direction(Index /*client*/, const Vector& y, const DataBlock& batch, Vector& d) {
  gradient(y, batch, d);
  d.noalias() += mu_ * (y - client_model());
  return 1;
}

}  // namespace distopt
