#include "distopt/federated/fedspeed.hpp"

#include "distopt/core/check.hpp"
#include "distopt/core/error.hpp"

namespace distopt {

namespace {
const FedSpeedOptions& validated(const FedSpeedOptions& options, FedSpeedForm form) {
  options.validate(form);
  return options;
}
}  // namespace

void FedSpeedOptions::validate(FedSpeedForm form) const {
  federated.validate();
  check::positive("fedspeed-lambda", lambda);
  check::nonnegative("fedspeed-rho", rho);
  if (alpha) check::in_range("fedspeed-alpha", *alpha, 0.0, 1.0);
  if (form == FedSpeedForm::kSimulator && alpha && *alpha != 1.0) {
    throw ConfigError("fedspeed-alpha",
                      "fedspeed-sim uses the authors' rule alpha = 1 (use --algorithm fedspeed for "
                      "other values)");
  }
}

FedSpeed::FedSpeed(RunContext& ctx, FedSpeedOptions options, Form form)
    : FederatedRound(ctx, form == Form::kPaper ? "fedspeed" : "fedspeed-sim",
                     validated(options, form).federated),
      form_(form),
      lambda_(options.lambda),
      rho_(options.rho),
      alpha_(options.alpha_for(form)),
      normalize_(options.normalize) {}

void FedSpeed::initialize_method(Index dim) {
  g2_.setZero(dim);
  y_pert_.setZero(dim);
  g_server_.setZero(form_ == Form::kSimulator ? dim : 0);
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
  if (form_ == Form::kPaper) {
    // Upload x̂_i − x^t = (y_K − x^t) − λ ĝ_i (with the updated ĝ_i).
    if (const Vector* gi = g_hat_.find(run.client)) up.noalias() -= lambda_ * *gi;
  }
}

void FedSpeed::server_delta(const Vector& aggregate, double mass, Vector& delta) {
  if (form_ == Form::kPaper) {
    delta = aggregate;  // x^{t+1} = Σ_S p̃_i x̂_i
    return;
  }
  g_server_.noalias() -= (mass / lambda_) * aggregate;
  delta = aggregate - lambda_ * g_server_;
}

void FedSpeed::save_method(StateArchive& out) const {
  if (form_ == Form::kSimulator) out.put("server/fedspeed/g", g_server_);
  g_hat_.save(out, "fedspeed/g");
}

void FedSpeed::load_method(const StateArchive& in) {
  if (form_ == Form::kSimulator) {
    g_server_ = in.get_vector("server/fedspeed/g");
    if (g_server_.size() != x_.size()) {
      throw InputError("checkpoint: server/fedspeed/g has the wrong dimension");
    }
  }
  g_hat_.load(in, "fedspeed/g");
}

}  // namespace distopt
