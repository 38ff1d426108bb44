#include "distopt/federated/decentralized_fl.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <span>

#include "distopt/comm/agent_sum.hpp"
#include "distopt/core/check.hpp"
#include "distopt/core/error.hpp"
#include "distopt/data/local_data.hpp"
#include "distopt/model/objective.hpp"
#include "distopt/topology/graph_spec.hpp"

namespace distopt {

namespace {
constexpr std::uint64_t kValueBytes = sizeof(double);  // models travel as float64

const DecentralizedFLOptions& validated(const DecentralizedFLOptions& o) {
  o.validate();
  return o;
}
}  // namespace

void DecentralizedFLOptions::validate() const {
  schedule.validate();
  check::positive("lr", lr);
  check::in_range("lr-decay", lr_decay, 0.0, 1.0, /*lo_open=*/true);
  check::at_least("gossip-steps", gossip_steps, 1);
  check::nonnegative("sam-rho", sam_rho);
  speed.validate();
}

DecentralizedFL::DecentralizedFL(RunContext& ctx, DecentralizedFLOptions options,
                                 DecentralizedLocalStep local)
    : ctx_(ctx),
      options_(validated(options)),
      local_(local),
      graph_(make_graph(options_.graph, ctx.placement.agents(), ctx.seed)),
      channel_(ctx.comm),
      mixer_(graph_, ctx.placement, channel_),
      solver_(options_.schedule, ctx.seed) {
  ctx.data.check_batch_size(options_.schedule.batch_size);
  // Each client's rows in storage of its own: its gradients then see the same memory layout (and
  // so give the same bits) whichever rank holds it and wherever its shard sits in that rank's data.
  const Index first = ctx.placement.local_first();
  for (Index a = first; a < first + ctx.placement.local_count(); ++a) {
    const DataBlock shard = ctx.data.shard(a);
    std::vector<Index> rows(static_cast<std::size_t>(shard.rows()));
    std::iota(rows.begin(), rows.end(), shard.begin());
    rows_.push_back(shard.dataset().select(rows));
  }
}

double DecentralizedFL::local_lr(std::int64_t round) const {
  return options_.lr * std::pow(options_.lr_decay, static_cast<double>(round - 1));
}

void DecentralizedFL::initialize(const Vector& x0) {
  const Index d = x0.size();
  X_.resize(ctx_.placement.local_count(), d);
  for (Index k = 0; k < X_.rows(); ++k) X_.row(k) = x0.transpose();
  y_.resize(d);
  g_.resize(d);
  y_pert_.resize(d);
  grad_evals_.assign(static_cast<std::size_t>(X_.rows()), 0);
  drift_.assign(static_cast<std::size_t>(X_.rows()), 0.0);
  rounds_ = 0;
  lr_now_ = local_lr(1);
  mixer_.restore_steps(0);
  clock_.initialize(ctx_, solver_, options_.speed);
  mean_ = x0;  // every client starts at x0
}

int DecentralizedFL::direction(const Vector& y, const DataBlock& batch, Vector& d) {
  if (local_ == DecentralizedLocalStep::kSgd || options_.sam_rho == 0) {
    ctx_.objective.loss_grad(y, batch, d);
    return 1;
  }
  // SAM (Foret et al. 2021, as DFedSAM's local step): ascend to y + ρ g/‖g‖ on the same batch,
  // then descend along the gradient there.
  ctx_.objective.loss_grad(y, batch, g_);
  const double norm = g_.norm();
  const double scale = norm > 0 ? options_.sam_rho / norm : 0.0;
  y_pert_ = y + scale * g_;
  ctx_.objective.loss_grad(y_pert_, batch, d);
  return 2;
}

void DecentralizedFL::step(std::int64_t round) {
  const double lr = local_lr(round);
  lr_now_ = lr;
  const Index first = ctx_.placement.local_first();
  for (Index k = 0; k < X_.rows(); ++k) {
    y_ = X_.row(k).transpose();
    solver_.run(
        first + k, round, rows_[static_cast<std::size_t>(k)].all(), lr, y_,
        [this](const Vector& y, const DataBlock& batch, Vector& dir) {
          return direction(y, batch, dir);
        },
        &grad_evals_[static_cast<std::size_t>(k)]);
    drift_[static_cast<std::size_t>(k)] = (y_ - X_.row(k).transpose()).squaredNorm();
    X_.row(k) = y_.transpose();
  }
  for (std::int64_t q = 0; q < options_.gossip_steps; ++q) mixer_.mix(X_);
  ++rounds_;
  clock_.advance_all();
  mean_.reset();
}

const Vector& DecentralizedFL::model() const {
  if (!mean_) {
    AgentSum sum(ctx_.comm, ctx_.reduction);
    sum.reset(X_.cols());
    const Index first = ctx_.placement.local_first();
    for (Index k = 0; k < X_.rows(); ++k) sum.add(first + k, X_.row(k).transpose());
    Vector m;
    sum.finish(m);
    m /= static_cast<double>(ctx_.placement.agents());
    mean_ = std::move(m);
  }
  return *mean_;
}

std::uint64_t DecentralizedFL::local_grad_evals() const {
  return std::accumulate(grad_evals_.begin(), grad_evals_.end(), std::uint64_t{0});
}

void DecentralizedFL::extra_metrics(MetricRow& row) {
  const Vector& mean = model();
  // Per-client scalars summed with --reduction: client order with ordered, so the metrics have
  // the same bits at any rank count.
  AgentSum sums(ctx_.comm, ctx_.reduction);
  sums.reset(2);
  Vector v(2);
  const Index first = ctx_.placement.local_first();
  for (Index k = 0; k < X_.rows(); ++k) {
    v << (X_.row(k).transpose() - mean).squaredNorm(), drift_[static_cast<std::size_t>(k)];
    sums.add(first + k, v);
  }
  Vector total;
  sums.finish(total);
  const auto n = static_cast<double>(ctx_.placement.agents());
  row.set("consensus", total[0] / n);
  row.set("client_drift", total[1] / n);
  row.set("bytes_per_edge_round", static_cast<double>(options_.gossip_steps) *
                                      static_cast<double>(X_.cols()) *
                                      static_cast<double>(kValueBytes));
  std::uint64_t events = mixer_.edge_activations();
  ctx_.comm.allreduce_sum(std::span<std::uint64_t>(&events, 1));
  row.set("comm_events", static_cast<double>(events));
  row.set("lr_local", lr_now_);
  row.set("virtual_time", clock_.now());
}

void DecentralizedFL::save(StateArchive& out) const {
  const Index first = ctx_.placement.local_first();
  for (Index k = 0; k < X_.rows(); ++k) {
    out.put(StateArchive::agent_key(first + k, "dfl/x"), X_.row(k).transpose());
    out.put_count(StateArchive::agent_key(first + k, "grad_evals"),
                  grad_evals_[static_cast<std::size_t>(k)]);
    out.put_scalar(StateArchive::agent_key(first + k, "dfl/drift"),
                   drift_[static_cast<std::size_t>(k)]);
  }
  out.put_count("dfl/rounds", static_cast<std::uint64_t>(rounds_));
}

void DecentralizedFL::load(const StateArchive& in) {
  const Index first = ctx_.placement.local_first();
  for (Index k = 0; k < X_.rows(); ++k) {
    const Vector x = in.get_vector(StateArchive::agent_key(first + k, "dfl/x"));
    if (x.size() != X_.cols()) {
      throw InputError("checkpoint: client " + std::to_string(first + k) + " model has dimension " +
                       std::to_string(x.size()) + ", the model has " + std::to_string(X_.cols()));
    }
    X_.row(k) = x.transpose();
    grad_evals_[static_cast<std::size_t>(k)] =
        in.get_count(StateArchive::agent_key(first + k, "grad_evals"));
    drift_[static_cast<std::size_t>(k)] =
        in.get_scalar(StateArchive::agent_key(first + k, "dfl/drift"));
  }
  rounds_ = static_cast<std::int64_t>(in.get_count("dfl/rounds"));
  // Edge activations follow from the rounds: Q steps per round.
  mixer_.restore_steps(static_cast<std::uint64_t>(rounds_ * options_.gossip_steps));
  lr_now_ = local_lr(rounds_ > 0 ? rounds_ : 1);
  clock_.reset();  // replayed, so that the sum has the uninterrupted run's bits
  for (std::int64_t t = 0; t < rounds_; ++t) clock_.advance_all();
  mean_.reset();
}

void DecentralizedFL::final_outputs(std::map<std::string, RowMatrix>& out) {
  const Index n = ctx_.placement.agents();
  const Index d = X_.cols();
  std::vector<int> counts(static_cast<std::size_t>(ctx_.comm.size()));
  for (int r = 0; r < ctx_.comm.size(); ++r) {
    const Index c = ctx_.placement.count(r) * d;
    if (c > std::numeric_limits<int>::max())
      throw Error("dfl: more than 2^31 model values on a rank");
    counts[static_cast<std::size_t>(r)] = static_cast<int>(c);
  }
  const auto all =
      ctx_.comm.allgatherv(std::span<const double>(X_.data(), static_cast<std::size_t>(X_.size())),
                           std::span<const int>(counts));
  RowMatrix nodes(n, d);
  std::copy(all.begin(), all.end(), nodes.data());
  out["nodes"] = std::move(nodes);
}

}  // namespace distopt
