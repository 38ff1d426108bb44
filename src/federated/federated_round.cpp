#include "distopt/federated/federated_round.hpp"

#include <algorithm>
#include <cmath>

#include "distopt/comm/agent_sum.hpp"
#include "distopt/core/error.hpp"
#include "distopt/data/local_data.hpp"
#include "distopt/model/objective.hpp"

namespace distopt {

namespace {
constexpr std::uint64_t kValueBytes = sizeof(double);  // logical downlink: float64 values

/// `options`, validated: lets the constructor check them before it builds any member.
FederatedOptions validated(FederatedOptions options) {
  options.validate();
  return options;
}

}  // namespace

FederatedRound::FederatedRound(RunContext& ctx, std::string name, FederatedOptions options)
    : ctx_(ctx),
      name_(std::move(name)),
      options_(validated(std::move(options))),
      solver_(options_.schedule, ctx.seed),
      sampler_(make_client_sampler(options_, ctx.placement.agents(), ctx.seed)),
      server_opt_(options_.server) {
  ctx.data.check_batch_size(options_.schedule.batch_size);
  if (static_cast<Index>(ctx.agent_weights.size()) != ctx.placement.agents()) {
    throw Error("FederatedRound: agent_weights must hold one weight per client");
  }
  uplink_ = make_uplink(ctx, options_.uplink, "update");
  downlink_ = make_downlink(ctx, options_.downlink, "down");
}

double FederatedRound::local_lr(std::int64_t round) const {
  return options_.lr * std::pow(options_.lr_decay, static_cast<double>(round - 1));
}

void FederatedRound::initialize(const Vector& x0) {
  const Index d = x0.size();
  x_ = x0;
  y_.resize(d);
  up_.resize(d);
  delta_.resize(d);
  server_opt_.initialize(d);
  grad_evals_.assign(static_cast<std::size_t>(ctx_.placement.local_count()), 0);
  active_.clear();
  drift_.clear();
  bytes_up_round_ = bytes_down_round_ = 0;
  lr_now_ = local_lr(1);
  clock_.initialize(ctx_, solver_, options_.speed);
  if (downlink_) downlink_->initialize(x0);
  initialize_method(d);
}

void FederatedRound::gradient(const Vector& y, const DataBlock& batch, Vector& g) const {
  ctx_.objective.loss_grad(y, batch, g);
}

void FederatedRound::finish_client(const LocalRun& run, Vector& up) { up = *run.y - *run.x; }

void FederatedRound::server_delta(const Vector& aggregate, double /*mass*/, Vector& delta) {
  delta = aggregate;
}

void FederatedRound::step(std::int64_t round) {
  const Index d = x_.size();
  const double lr = local_lr(round);
  lr_now_ = lr;
  active_ = sampler_.sample(round);
  clock_.advance(active_);

  // P_S in client order: the same sum on every rank.
  double mass = 0;
  for (Index i : active_) mass += ctx_.agent_weights[static_cast<std::size_t>(i)];

  auto& traffic = ctx_.comm.traffic();
  const auto before = traffic.local_total();
  drift_.clear();

  uplink_->begin(d);
  begin_round(round);
  const Index first = ctx_.placement.local_first();
  const Index end = ctx_.placement.end(ctx_.comm.rank());
  const auto lo = std::lower_bound(active_.begin(), active_.end(), first);
  const auto hi = std::lower_bound(lo, active_.end(), end);
  // Dense downlink: the model (and the method's extras) to each active client. Compressed: the
  // extras only here; the model's message is counted after the server step.
  const Index down_values = downlink_ ? extra_down_values() : d + extra_down_values();
  const auto down_bytes = static_cast<std::uint64_t>(down_values) * kValueBytes;
  const Vector& start = client_model();
  for (auto it = lo; it != hi; ++it) {
    const Index a = *it;
    if (down_bytes > 0 || !downlink_) traffic.add_down(a, down_bytes);
    begin_client(a);
    y_ = start;
    auto* evals = &grad_evals_[static_cast<std::size_t>(a - first)];
    const Index steps = solver_.run(
        a, round, ctx_.data.shard(a), lr, y_,
        [this, a](const Vector& y, const DataBlock& batch, Vector& dir) {
          return direction(a, y, batch, dir);
        },
        evals);
    drift_.emplace_back(a, (y_ - start).squaredNorm());
    LocalRun run{a, steps, lr, &start, &y_};
    finish_client(run, up_);
    const double w = mass > 0 ? ctx_.agent_weights[static_cast<std::size_t>(a)] / mass : 0.0;
    uplink_->submit(a, up_, w);
  }
  uplink_->finish(aggregate_);
  server_delta(aggregate_, mass, delta_);
  server_opt_.apply(delta_, x_);
  if (downlink_) {
    // One message C(x^{t+1} − w) to every client, computed identically on every rank (the server
    // is replicated), so no MPI traffic: only the logical bytes are counted, by the client's rank.
    const std::uint64_t msg = downlink_->broadcast(x_, static_cast<std::uint64_t>(round));
    for (Index a = first; a < end; ++a) traffic.add_down(a, msg);
  }

  const auto after = traffic.local_total();
  bytes_up_round_ = static_cast<double>(after.bytes_up - before.bytes_up);
  bytes_down_round_ = static_cast<double>(after.bytes_down - before.bytes_down);
}

std::uint64_t FederatedRound::local_grad_evals() const {
  std::uint64_t s = 0;
  for (auto v : grad_evals_) s += v;
  return s;
}

void FederatedRound::extra_metrics(MetricRow& row) {
  // The drift sum follows --reduction (client order with ordered, so the metric has the same bits
  // at any rank count); the counts are integers, exact under any order.
  AgentSum drift(ctx_.comm, ctx_.reduction);
  drift.reset(1);
  for (const auto& [a, v] : drift_) drift.add(a, Vector::Constant(1, v));
  Vector drift_sum;
  drift.finish(drift_sum);
  double v[3] = {static_cast<double>(drift_.size()), bytes_up_round_, bytes_down_round_};
  ctx_.comm.allreduce_sum(std::span<double>(v, 3));
  row.set("client_drift", v[0] > 0 ? drift_sum[0] / v[0] : 0.0);
  row.set("active_clients", v[0]);
  row.set("bytes_up_round", v[1]);
  row.set("bytes_down_round", v[2]);
  row.set("lr_local", lr_now_);
  row.set("virtual_time", clock_.now());
}

void FederatedRound::save(StateArchive& out) const {
  out.put("server/x", x_);
  server_opt_.save(out, "server/opt");
  uplink_->save(out, "uplink/update");
  if (downlink_) downlink_->save(out);
  const Index first = ctx_.placement.local_first();
  for (std::size_t i = 0; i < grad_evals_.size(); ++i) {
    if (grad_evals_[i] == 0) continue;
    out.put_count(StateArchive::agent_key(first + static_cast<Index>(i), "grad_evals"), grad_evals_[i]);
  }
  save_method(out);
}

void FederatedRound::load(const StateArchive& in) {
  Vector x = in.get_vector("server/x");
  if (x.size() != x_.size()) {
    throw InputError("checkpoint: server/x has dimension " + std::to_string(x.size()) +
                     ", the model has " + std::to_string(x_.size()));
  }
  x_ = std::move(x);
  server_opt_.load(in, "server/opt");
  uplink_->load(in, "uplink/update");
  if (downlink_) downlink_->load(in);
  const Index first = ctx_.placement.local_first();
  for (std::size_t i = 0; i < grad_evals_.size(); ++i) {
    const auto key = StateArchive::agent_key(first + static_cast<Index>(i), "grad_evals");
    grad_evals_[i] = in.has(key) ? in.get_count(key) : 0;
  }
  if (in.has("trainer/round")) {
    const auto rounds = static_cast<std::int64_t>(in.get_count("trainer/round"));
    lr_now_ = local_lr(rounds);
    // The samples are keyed by the round: replaying them gives the clock the bits it had.
    clock_.reset();
    for (std::int64_t t = 1; t <= rounds; ++t) clock_.advance(sampler_.sample(t));
  }
  load_method(in);
}

}  // namespace distopt
