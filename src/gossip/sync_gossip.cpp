#include "distopt/gossip/sync_gossip.hpp"

#include <map>

#include "distopt/core/check.hpp"
#include "distopt/core/error.hpp"
#include "distopt/gossip/optimum.hpp"

namespace distopt {

void SyncGossipOptions::validate() const {
  gossip.validate();
  check::at_least("gossip-steps", gossip_steps, 1);
  if (lr) check::positive("lr", *lr);
}

SyncGossip::SyncGossip(RunContext& ctx, SyncGossipOptions options)
    : ctx_(ctx),
      problem_(ctx, options.gossip),
      mixer_(problem_.graph(), ctx.placement, problem_.exchange()) {
  options.validate();
  steps_ = options.gossip_steps;
  lr_ = options.lr ? *options.lr : 1.0 / problem_.L();
}

void SyncGossip::initialize(const Vector& x0) {
  X_.resize(problem_.local_count(), x0.size());
  for (Index k = 0; k < X_.rows(); ++k) X_.row(k) = x0.transpose();
  x_star_ = solve_optimum(ctx_, x0, problem_.L_mean(), problem_.mu_mean()).x;
  models_.reset();
}

void SyncGossip::step(std::int64_t /*round*/) {
  const Index first = problem_.local_first();
  Vector x;
  for (Index k = 0; k < X_.rows(); ++k) {
    x = X_.row(k).transpose();
    problem_.gradient(first + k, x, g_);
    X_.row(k) -= lr_ * g_.transpose();
  }
  for (std::int64_t q = 0; q < steps_; ++q) mixer_.mix(X_);
  ++rounds_;
  models_.reset();
}

const RowMatrix& SyncGossip::node_models() const {
  if (!models_) {
    models_ = gather_nodes(ctx_.comm, ctx_.placement, X_);
    mean_ = NodeSummary::of(*models_, x_star_).mean;
  }
  return *models_;
}

const Vector& SyncGossip::model() const {
  node_models();
  return mean_;
}

void SyncGossip::extra_metrics(MetricRow& row) {
  const auto s = NodeSummary::of(node_models(), x_star_);
  row.set("dist_to_opt", s.dist_to_opt);
  row.set("consensus", s.consensus);
  std::uint64_t c[2] = {problem_.local_gradients(), mixer_.edge_activations()};
  ctx_.comm.allreduce_sum(std::span<std::uint64_t>(c, 2));
  row.set("grad_events", static_cast<double>(c[0]));
  row.set("comm_events", static_cast<double>(c[1]));
}

void SyncGossip::save(StateArchive& out) const {
  for (Index k = 0; k < X_.rows(); ++k) {
    out.put(StateArchive::agent_key(problem_.local_first() + k, "gossip/x"), X_.row(k).transpose());
  }
  out.put_count("gossip/rounds", static_cast<std::uint64_t>(rounds_));
}

void SyncGossip::load(const StateArchive& in) {
  for (Index k = 0; k < X_.rows(); ++k) {
    const Vector x = in.get_vector(StateArchive::agent_key(problem_.local_first() + k, "gossip/x"));
    if (x.size() != X_.cols()) throw InputError("checkpoint: gossip node model has the wrong size");
    X_.row(k) = x.transpose();
  }
  rounds_ = static_cast<std::int64_t>(in.get_count("gossip/rounds"));
  // Counters follow from the round count: n_local gradients per round, Q gossip steps per round.
  problem_.restore_gradients(static_cast<std::uint64_t>(rounds_ * problem_.local_count()));
  mixer_.restore_steps(static_cast<std::uint64_t>(steps_ * rounds_));
  models_.reset();
}

void SyncGossip::final_outputs(std::map<std::string, RowMatrix>& out) { out["nodes"] = node_models(); }

}  // namespace distopt
