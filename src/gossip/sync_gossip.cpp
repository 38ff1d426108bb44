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
    : ctx_(ctx), problem_(ctx, options.gossip) {
  options.validate();
  steps_ = options.gossip_steps;
  lr_ = options.lr ? *options.lr : 1.0 / problem_.L();
  w_ = metropolis_weights(problem_.graph());
  const Graph& g = problem_.graph();
  for (Index i = problem_.local_first(); i < problem_.local_first() + problem_.local_count(); ++i) {
    for (Index e : g.incident(i)) {
      if (!problem_.is_local(g.edge(e).other(i))) remote_.push_back({e, i});
    }
  }
}

void SyncGossip::initialize(const Vector& x0) {
  X_.resize(problem_.local_count(), x0.size());
  for (Index k = 0; k < X_.rows(); ++k) X_.row(k) = x0.transpose();
  next_.resizeLike(X_);
  recv_.resize(static_cast<Index>(remote_.size()), x0.size());
  x_star_ = solve_optimum(ctx_, x0, problem_.L_mean(), problem_.mu_mean()).x;
  models_.reset();
}

void SyncGossip::gossip_once() {
  const Graph& g = problem_.graph();
  const Index first = problem_.local_first();
  const Index d = X_.cols();
  NeighborExchange& channel = problem_.exchange();
  std::vector<Request> reqs;
  reqs.reserve(2 * remote_.size());
  std::map<Index, Index> slot;  // edge -> row of recv_
  for (std::size_t r = 0; r < remote_.size(); ++r) {
    const auto [e, i] = remote_[r];
    const int peer = problem_.owner(g.edge(e).other(i));
    const int tag = channel.edge_tag(e);
    slot[e] = static_cast<Index>(r);
    reqs.push_back(channel.irecv(
        std::span<double>(recv_.row(static_cast<Index>(r)).data(), static_cast<std::size_t>(d)),
        peer, tag));
    reqs.push_back(channel.isend(
        std::span<const double>(X_.row(i - first).data(), static_cast<std::size_t>(d)), peer, tag,
        {i}));
  }
  wait_all(reqs);
  const auto bytes = static_cast<std::uint64_t>(d) * sizeof(double);
  for (Index i = first; i < first + problem_.local_count(); ++i) {
    auto out = next_.row(i - first);
    out = w_.self[static_cast<std::size_t>(i)] * X_.row(i - first);
    for (Index e : g.incident(i)) {
      const Index j = g.edge(e).other(i);
      const double we = w_.edge[static_cast<std::size_t>(e)];
      if (problem_.is_local(j)) {
        out += we * X_.row(j - first);
        channel.count_in_memory(i, bytes);  // i's model, read by j in memory
      } else {
        out += we * recv_.row(slot.at(e));
      }
      if (g.edge(e).u == i) ++comm_events_;
    }
  }
  X_.swap(next_);
}

void SyncGossip::step(std::int64_t /*round*/) {
  const Index first = problem_.local_first();
  Vector x;
  for (Index k = 0; k < X_.rows(); ++k) {
    x = X_.row(k).transpose();
    problem_.gradient(first + k, x, g_);
    X_.row(k) -= lr_ * g_.transpose();
  }
  for (std::int64_t q = 0; q < steps_; ++q) gossip_once();
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
  std::uint64_t c[2] = {problem_.local_gradients(), comm_events_};
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
  // Counters follow from the round count: n_local gradients and the local lower-end edges per step.
  problem_.restore_gradients(static_cast<std::uint64_t>(rounds_ * problem_.local_count()));
  std::uint64_t lower = 0;
  for (Index i = problem_.local_first(); i < problem_.local_first() + problem_.local_count(); ++i) {
    for (Index e : problem_.graph().incident(i)) lower += problem_.graph().edge(e).u == i ? 1 : 0;
  }
  comm_events_ = lower * static_cast<std::uint64_t>(steps_ * rounds_);
  models_.reset();
}

void SyncGossip::final_outputs(std::map<std::string, RowMatrix>& out) { out["nodes"] = node_models(); }

}  // namespace distopt
