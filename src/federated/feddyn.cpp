#include "distopt/federated/feddyn.hpp"

#include "distopt/core/check.hpp"
#include "distopt/core/error.hpp"

namespace distopt {

namespace {
const FedDynOptions& validated(const FedDynOptions& options) {
  options.validate();
  return options;
}
}  // namespace

void FedDynOptions::validate() const {
  federated.validate();
  check::positive("feddyn-alpha", alpha);
}

FedDyn::FedDyn(RunContext& ctx, FedDynOptions options)
    : FederatedRound(ctx, "feddyn", validated(options).federated), alpha_(options.alpha) {}

void FedDyn::initialize_method(Index dim) {
  h_.setZero(dim);
  hi_states_.reset(ctx_.placement.local_first(), ctx_.placement.local_count(), dim);
}

int FedDyn::direction(Index client, const Vector& y, const DataBlock& batch, Vector& d) {
  gradient(y, batch, d);
  d.noalias() += alpha_ * (y - client_model());
  if (const Vector* hi = hi_states_.find(client)) d -= *hi;
  return 1;
}

void FedDyn::finish_client(const LocalRun& run, Vector& up) {
  up = *run.y - *run.x;
  if (run.steps > 0) hi_states_.get(run.client).noalias() -= alpha_ * up;
}

void FedDyn::server_delta(const Vector& aggregate, double mass, Vector& delta) {
  // Σ_S p_i (y_i − x) = P_S · U.
  h_.noalias() -= (alpha_ * mass) * aggregate;
  delta = aggregate - h_ / alpha_;
}

void FedDyn::save_method(StateArchive& out) const {
  out.put("server/feddyn/h", h_);
  hi_states_.save(out, "feddyn/h");
}

void FedDyn::load_method(const StateArchive& in) {
  h_ = in.get_vector("server/feddyn/h");
  if (h_.size() != x_.size()) throw InputError("checkpoint: server/feddyn/h has the wrong dimension");
  hi_states_.load(in, "feddyn/h");
}

}  // namespace distopt
