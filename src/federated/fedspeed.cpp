#include "distopt/federated/fedspeed.hpp"

#include <utility>

#include "distopt/core/check.hpp"
#include "distopt/core/error.hpp"

namespace distopt {

namespace {
const FedSpeedOptions& validated(const FedSpeedOptions& options) {
  options.validate();
  return options;
}
}  // namespace

void FedSpeedOptions::validate() const {
  federated.validate();
  check::positive("fedspeed-lambda", lambda);
  check::nonnegative("fedspeed-rho", rho);
  if (alpha) check::in_range("fedspeed-alpha", *alpha, 0.0, 1.0);
}

std::string to_string(FedSpeedServer server) {
  return server == FedSpeedServer::kAll ? "all" : "active";
}

FedSpeed::FedSpeed(RunContext& ctx, FedSpeedOptions options, std::string name)
    : FederatedRound(ctx, std::move(name), validated(options).federated),
      server_(options.server),
      lambda_(options.lambda),
      rho_(options.rho),
      alpha_(options.alpha_used()),
      normalize_(options.normalize) {}

void FedSpeed::initialize_method(Index dim) {
  g2_.setZero(dim);
  y_pert_.setZero(dim);
  g_server_.setZero(all_() ? dim : 0);
  g_hat_.reset(ctx_.placement.local_first(), ctx_.placement.local_count(), dim);
}

int FedSpeed::direction(Index client, const Vector& y, const DataBlock& batch, Vector& d) {
  gradient(y, batch, d);  // g1
  int evals = 1;
  if (alpha_ > 0 && rho_ > 0) {
    double scale = rho_;
    if (normalize_) {
      const double norm = d.norm();
      scale = norm > 0 ? rho_ / norm : 0.0;
    }
    y_pert_ = y + scale * d;  // ascent step y' = y + ρ g1/‖g1‖
    gradient(y_pert_, batch, g2_);
    ++evals;
    d = (1.0 - alpha_) * d + alpha_ * g2_;  // merged quasi-gradient
  }
  d.noalias() += (1.0 / lambda_) * (y - client_model());
  if (const Vector* gi = g_hat_.find(client)) d -= *gi;
  return evals;
}

void FedSpeed::finish_client(const LocalRun& run, Vector& up) {
  up = *run.y - *run.x;
  if (run.steps > 0) g_hat_.get(run.client).noalias() -= (1.0 / lambda_) * up;
  if (!all_()) {
    // Upload x̂_i − x^t = (y_K − x^t) − λ ĝ_i (with the updated ĝ_i).
    if (const Vector* gi = g_hat_.find(run.client)) up.noalias() -= lambda_ * *gi;
  }
}

void FedSpeed::server_delta(const Vector& aggregate, double mass, Vector& delta) {
  if (!all_()) {
    delta = aggregate;  // x^{t+1} = Σ_S p̃_i x̂_i
    return;
  }
  // ĝ ← ĝ − (1/λ) Σ_S p_i (y_i − x^t), with Σ_S p_i (y_i − x^t) = P_S U; x^{t+1} = x^t + U − λĝ.
  g_server_.noalias() -= (mass / lambda_) * aggregate;
  delta = aggregate - lambda_ * g_server_;
}

void FedSpeed::save_method(StateArchive& out) const {
  if (all_()) out.put("server/fedspeed/g", g_server_);
  g_hat_.save(out, "fedspeed/g");
}

void FedSpeed::load_method(const StateArchive& in) {
  if (all_()) {
    g_server_ = in.get_vector("server/fedspeed/g");
    if (g_server_.size() != x_.size()) {
      throw InputError("checkpoint: server/fedspeed/g has the wrong dimension");
    }
  }
  g_hat_.load(in, "fedspeed/g");
}

}  // namespace distopt
