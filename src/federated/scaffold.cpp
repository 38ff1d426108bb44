#include "distopt/federated/scaffold.hpp"

#include <utility>

#include "distopt/core/error.hpp"

namespace distopt {

Scaffold::Scaffold(RunContext& ctx, FederatedOptions options)
    : FederatedRound(ctx, "scaffold", std::move(options)), control_up_(ctx.comm, ctx.reduction) {}

void Scaffold::initialize_method(Index dim) {
  c_.setZero(dim);
  correction_.setZero(dim);
  dc_.setZero(dim);
  ci_.reset(ctx_.placement.local_first(), ctx_.placement.local_count(), dim);
}

void Scaffold::begin_round(std::int64_t /*round*/) { control_up_.begin(x_.size()); }

void Scaffold::begin_client(Index client) {
  if (const Vector* ci = ci_.find(client)) {
    correction_ = c_ - *ci;
  } else {
    correction_ = c_;
  }
}

int Scaffold::direction(Index /*client*/, const Vector& y, const DataBlock& batch, Vector& d) {
  gradient(y, batch, d);
  d += correction_;  // − c_i + c
  return 1;
}

void Scaffold::finish_client(const LocalRun& run, Vector& up) {
  up = *run.y - *run.x;
  // Δc_i = c_i⁺ − c_i = −c + (x^t − y_i)/(K_i η_l); a client that took no step keeps c_i.
  if (run.steps > 0) {
    dc_ = (-1.0 / (static_cast<double>(run.steps) * run.lr)) * up - c_;
    ci_.get(run.client) += dc_;
  } else {
    dc_.setZero();
  }
  control_up_.submit(run.client, dc_, ctx_.agent_weights[static_cast<std::size_t>(run.client)]);
}

void Scaffold::server_delta(const Vector& aggregate, double /*mass*/, Vector& delta) {
  delta = aggregate;
  control_up_.finish(dc_sum_);  // Σ_{i∈S} p_i Δc_i
  c_ += dc_sum_;
}

void Scaffold::save_method(StateArchive& out) const {
  out.put("server/scaffold/c", c_);
  ci_.save(out, "scaffold/c");
}

void Scaffold::load_method(const StateArchive& in) {
  c_ = in.get_vector("server/scaffold/c");
  if (c_.size() != x_.size()) throw InputError("checkpoint: server/scaffold/c has the wrong dimension");
  ci_.load(in, "scaffold/c");
}

}  // namespace distopt
