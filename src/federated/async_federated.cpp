#include "distopt/federated/async_federated.hpp"

#include <algorithm>
#include <cmath>

#include "distopt/comm/agent_sum.hpp"
#include "distopt/core/error.hpp"
#include "distopt/data/local_data.hpp"
#include "distopt/federated/round_clock.hpp"
#include "distopt/model/objective.hpp"

namespace distopt {

namespace {
constexpr std::uint64_t kValueBytes = sizeof(double);  // logical traffic: float64 values

AsyncFederatedOptions validated(AsyncFederatedOptions o) {
  o.validate();
  return o;
}
}  // namespace

void AsyncFederatedOptions::validate() const {
  federated.validate();
  if (federated.uplink.compressor != "none") {
    throw ConfigError("compressor",
                      "the asynchronous federated methods send dense updates: only "
                      "'none' is supported (got '" +
                          federated.uplink.compressor + "')");
  }
  if (federated.downlink.compressor != "none") {
    throw ConfigError("compressor-down",
                      "the asynchronous federated methods send the model dense: "
                      "only 'none' is supported (got '" +
                          federated.downlink.compressor + "')");
  }
  cost.validate();
  if (time_budget && !(*time_budget > 0 && std::isfinite(*time_budget))) {
    throw ConfigError("time", "must be a positive finite time");
  }
  if (clock == AsyncClock::kVirtual) {
    if (cost.slow_rank >= 0) {
      throw ConfigError("slow-rank",
                        "has a meaning only with --clock wall (in simulated time, slow clients "
                        "are given by --client-speed)");
    }
    if (cost.grad_cost > 0) {
      throw ConfigError("grad-cost", "has a meaning only with --clock wall");
    }
  } else if (federated.speed.kind != ClientSpeedOptions::Kind::kConstant || federated.speed.value != 1.0) {
    throw ConfigError("client-speed",
                      "with --clock wall the clients run at their real speed: use --slow-rank "
                      "(and --grad-cost) instead of simulated speeds");
  }
}

AsyncFederated::AsyncFederated(RunContext& ctx, std::string name, AsyncFederatedOptions options)
    : ctx_(ctx),
      name_(std::move(name)),
      opt_(validated(std::move(options))),
      solver_(opt_.federated.schedule, ctx.seed),
      server_opt_(opt_.federated.server) {
  ctx.data.check_batch_size(opt_.federated.schedule.batch_size);
  const Index n = ctx.placement.agents();
  if (n < 1) throw ConfigError("agents", "federated methods need at least one client");
  if (static_cast<Index>(ctx.agent_weights.size()) != n) {
    throw Error("AsyncFederated: agent_weights must hold one weight per client");
  }
  speeds_ = client_speeds(opt_.federated.speed, n, ctx.seed);
  if (wall()) {
    if (opt_.cost.slow_rank >= 0 && ctx.comm.size() < 2) {
      throw ConfigError("slow-rank",
                        "needs at least 2 ranks (with one rank every client is on the slow rank)");
    }
    cost_ = GradientCost(opt_.cost, ctx.comm.rank(), ctx.comm.size());
  }
}

AsyncFederated::~AsyncFederated() {
  stop_worker();
}

void AsyncFederated::initialize(const Vector& x0) {
  const Index d = x0.size();
  const Index n = ctx_.placement.agents();
  x_ = x0;
  y_.resize(d);
  delta_.resize(d);
  server_opt_.initialize(d);
  const Index local = ctx_.placement.local_count();
  compute_time_ = client_compute_times(ctx_, solver_, speeds_);
  queue_.clear();
  t_now_ = 0;
  version_ = 0;
  dispatches_ = 0;
  client_dispatches_.assign(static_cast<std::size_t>(n), 0);
  busy_.assign(static_cast<std::size_t>(n), 0);
  buffer_.clear();
  histogram_.clear();
  arrivals_ = 0;
  last_staleness_mean_ = last_staleness_max_ = last_buffer_ = 0;
  held_.assign(static_cast<std::size_t>(local), Vector());
  buffered_.assign(static_cast<std::size_t>(local), Vector());
  has_buffered_.assign(static_cast<std::size_t>(local), 0);
  grad_evals_.assign(static_cast<std::size_t>(local), 0);
  client_applied_.assign(static_cast<std::size_t>(n), 0);
  client_staleness_.assign(static_cast<std::size_t>(n), 0);
  received_ = 0;
  if (wall() && ctx_.comm.is_root()) buffered_all_.assign(static_cast<std::size_t>(n), Vector());
}

Vector& AsyncFederated::held(Index client) {
  return held_[static_cast<std::size_t>(ctx_.placement.local_index(client))];
}

Vector& AsyncFederated::buffered_sum(Index client) {
  return buffered_[static_cast<std::size_t>(ctx_.placement.local_index(client))];
}

void AsyncFederated::dispatch(Index client, std::optional<double> t_arrival) {
  const auto k = static_cast<std::size_t>(client);
  if (busy_[k]) throw Error("AsyncFederated: client " + std::to_string(client) + " is in flight");
  if (wall()) {
    // Rank 0 only: the owner trains it when the model arrives (async_wall.cpp).
    if (stopping_) return;
    busy_[k] = 1;
    const std::uint64_t nth = ++client_dispatches_[k];
    const InFlight f{client, version_, wall_time(), 0.0, dispatches_++};
    flights_[f.seq] = f;
    const int owner = ctx_.placement.owner(client);
    const Index d = x_.size();
    ctx_.comm.traffic().add_down(client, static_cast<std::uint64_t>(d) * kValueBytes);
    if (owner == 0) {
      std::lock_guard<std::mutex> lock(mu_);
      jobs_.push_back({f, nth, x_});
      cv_.notify_one();
      return;
    }
    std::vector<double> buf{static_cast<double>(client), static_cast<double>(f.version),
                            static_cast<double>(f.seq), static_cast<double>(nth)};
    buf.insert(buf.end(), x_.data(), x_.data() + d);
    send(owner, 1, std::move(buf));
    return;
  }
  busy_[k] = 1;
  const std::uint64_t nth = ++client_dispatches_[k];
  queue_.push(
      {client, version_, t_now_, t_arrival.value_or(t_now_ + compute_time_[k]), dispatches_++});
  if (!ctx_.placement.is_local(client)) return;
  // The owner trains now, on the model it downloads now, and holds u_i until the arrival.
  const Index d = x_.size();
  ctx_.comm.traffic().add_down(client, static_cast<std::uint64_t>(d) * kValueBytes);
  const double lr =
      opt_.federated.lr * std::pow(opt_.federated.lr_decay, static_cast<double>(version_));
  y_ = x_;
  auto* evals = &grad_evals_[static_cast<std::size_t>(ctx_.placement.local_index(client))];
  solver_.run(
      client, static_cast<std::int64_t>(nth), ctx_.data.shard(client), lr, y_,
      [this](const Vector& y, const DataBlock& batch, Vector& dir) {
        ctx_.objective.loss_grad(y, batch, dir);
        return 1;
      },
      evals);
  Vector& u = held(client);
  u = y_ - x_;
}

InFlight AsyncFederated::next_arrival() {
  InFlight f = queue_.pop();
  busy_[static_cast<std::size_t>(f.client)] = 0;
  ++received_;
  t_now_ = std::max(t_now_, f.t_arrival);
  return f;
}

void AsyncFederated::buffer(const InFlight& f, double factor) {
  const std::int64_t tau = version_ - f.version;
  buffer_.push_back({f.client, tau});
  if (!ctx_.placement.is_local(f.client)) return;
  const Index d = x_.size();
  ctx_.comm.traffic().add_up(f.client, static_cast<std::uint64_t>(d) * kValueBytes);
  const auto li = static_cast<std::size_t>(ctx_.placement.local_index(f.client));
  Vector& u = held_[li];
  Vector& acc = buffered_[li];
  // factor 1 copies u exactly, so that FedBuff with s ≡ 1 reproduces FedAvg's bits.
  if (!has_buffered_[li]) {
    if (factor == 1.0) {
      acc.swap(u);
    } else {
      acc = factor * u;
    }
    has_buffered_[li] = 1;
  } else {
    acc.noalias() += factor * u;
  }
  u.resize(0);
}

void AsyncFederated::aggregate_weights(const std::vector<std::pair<Index, double>>& weights) {
  double smax = 0, ssum = 0;
  for (const auto& b : buffer_) {
    ++client_applied_[static_cast<std::size_t>(b.client)];
    client_staleness_[static_cast<std::size_t>(b.client)] +=
        static_cast<std::uint64_t>(b.staleness);
    const auto tau = static_cast<std::size_t>(b.staleness);
    if (histogram_.size() <= tau) histogram_.resize(tau + 1, 0);
    ++histogram_[tau];
    ssum += static_cast<double>(b.staleness);
    smax = std::max(smax, static_cast<double>(b.staleness));
  }
  arrivals_ += buffer_.size();
  last_buffer_ = static_cast<double>(buffer_.size());
  last_staleness_mean_ = buffer_.empty() ? 0.0 : ssum / static_cast<double>(buffer_.size());
  last_staleness_max_ = smax;
  if (!buffer_.empty() && wall()) {
    // Rank 0 holds every buffered sum: add them in client order as --reduction ordered does, so
    // that a run the wall clock cannot reorder (one client in flight) has the virtual clock's bits.
    AgentSum sum(*self_, Reduction::kOrdered);
    sum.reset(x_.size());
    for (const auto& [client, w] : weights) {
      Vector& acc = buffered_all_[static_cast<std::size_t>(client)];
      sum.add(client, acc, w);
      acc.resize(0);
    }
    sum.finish(delta_);
    server_opt_.apply(delta_, x_);
  } else if (!buffer_.empty()) {
    AgentSum sum(ctx_.comm, ctx_.reduction);
    sum.reset(x_.size());
    for (const auto& [client, w] : weights) {
      if (!ctx_.placement.is_local(client)) continue;
      const auto li = static_cast<std::size_t>(ctx_.placement.local_index(client));
      sum.add(client, buffered_[li], w);
      buffered_[li].resize(0);
      has_buffered_[li] = 0;
    }
    sum.finish(delta_);
    server_opt_.apply(delta_, x_);
  }
  buffer_.clear();
  ++version_;
}

std::uint64_t AsyncFederated::local_grad_evals() const {
  std::lock_guard<std::mutex> lock(mu_);  // the wall clock's worker adds to it
  std::uint64_t s = 0;
  for (auto v : grad_evals_) s += v;
  return s;
}

void AsyncFederated::extra_metrics(MetricRow& row) {
  // Everything here is replicated: no communication.
  row.set("server_version", static_cast<double>(version_));
  if (wall()) {
    row.set("server_time", t_now_);  // seconds of the server's wall clock (async_wall.cpp)
  } else {
    row.set("virtual_time", t_now_);
  }
  row.set("arrivals", static_cast<double>(arrivals_));
  row.set("dispatches", static_cast<double>(dispatches_));
  row.set("in_flight", static_cast<double>(wall() ? flights_size_ : queue_.size()));
  row.set("buffer_last", last_buffer_);
  row.set("staleness_mean", last_staleness_mean_);
  row.set("staleness_max", last_staleness_max_);
}

void AsyncFederated::final_outputs(std::map<std::string, RowMatrix>& out) {
  finish_wall();
  // Per client: aggregated arrivals and the sum of their staleness.
  RowMatrix c(static_cast<Index>(client_applied_.size()), 3);
  for (std::size_t i = 0; i < client_applied_.size(); ++i) {
    c(static_cast<Index>(i), 0) = static_cast<double>(i);
    c(static_cast<Index>(i), 1) = static_cast<double>(client_applied_[i]);
    c(static_cast<Index>(i), 2) = static_cast<double>(client_staleness_[i]);
  }
  out["client_updates"] = std::move(c);
  RowMatrix h(static_cast<Index>(histogram_.size()), 2);
  for (std::size_t t = 0; t < histogram_.size(); ++t) {
    h(static_cast<Index>(t), 0) = static_cast<double>(t);
    h(static_cast<Index>(t), 1) = static_cast<double>(histogram_[t]);
  }
  out["staleness_histogram"] = std::move(h);
}

void AsyncFederated::save(StateArchive& out) const {
  const std::string p = "server/async/";
  out.put("server/x", x_);
  server_opt_.save(out, "server/opt");
  out.put_scalar(p + "t_now", t_now_);
  out.put_u64(p + "version", {static_cast<std::uint64_t>(version_)});
  out.put_u64(p + "dispatches", {dispatches_});
  out.put_u64(p + "arrivals", {arrivals_});
  out.put(p + "last", std::vector<double>{last_buffer_, last_staleness_mean_, last_staleness_max_});
  out.put_u64(p + "client_dispatches", client_dispatches_);
  out.put_u64(p + "histogram", histogram_);
  out.put_u64(p + "client_applied", client_applied_);
  out.put_u64(p + "client_staleness", client_staleness_);
  std::vector<std::uint64_t> qc, qv, qs;
  std::vector<double> qd, qa;
  for (const auto& f : queue_.items()) {
    qc.push_back(static_cast<std::uint64_t>(f.client));
    qv.push_back(static_cast<std::uint64_t>(f.version));
    qs.push_back(f.seq);
    qd.push_back(f.t_dispatch);
    qa.push_back(f.t_arrival);
  }
  out.put_u64(p + "queue/client", qc);
  out.put_u64(p + "queue/version", qv);
  out.put_u64(p + "queue/seq", qs);
  out.put(p + "queue/t_dispatch", qd);
  out.put(p + "queue/t_arrival", qa);
  std::vector<std::uint64_t> bc, bt;
  for (const auto& b : buffer_) {
    bc.push_back(static_cast<std::uint64_t>(b.client));
    bt.push_back(static_cast<std::uint64_t>(b.staleness));
  }
  out.put_u64(p + "buffer/client", bc);
  out.put_u64(p + "buffer/staleness", bt);
  const Index first = ctx_.placement.local_first();
  for (std::size_t i = 0; i < held_.size(); ++i) {
    const Index a = first + static_cast<Index>(i);
    if (held_[i].size() > 0) out.put(StateArchive::agent_key(a, "held_update"), held_[i]);
    if (has_buffered_[i]) out.put(StateArchive::agent_key(a, "buffered_update"), buffered_[i]);
    if (grad_evals_[i] > 0) out.put_count(StateArchive::agent_key(a, "grad_evals"), grad_evals_[i]);
  }
  save_method(out);
}

void AsyncFederated::load(const StateArchive& in) {
  const std::string p = "server/async/";
  const Index d = x_.size();
  const Index n = ctx_.placement.agents();
  auto vec = [&](const std::string& key) {
    Vector v = in.get_vector(key);
    if (v.size() != d) {
      throw InputError("checkpoint: " + key + " has dimension " + std::to_string(v.size()) +
                       ", the model has " + std::to_string(d));
    }
    return v;
  };
  x_ = vec("server/x");
  server_opt_.load(in, "server/opt");
  t_now_ = in.get_scalar(p + "t_now");
  version_ = static_cast<std::int64_t>(in.get_count(p + "version"));
  dispatches_ = in.get_count(p + "dispatches");
  arrivals_ = in.get_count(p + "arrivals");
  const auto& last = in.get_doubles(p + "last");
  if (last.size() != 3) throw InputError("checkpoint: " + p + "last must hold 3 values");
  last_buffer_ = last[0];
  last_staleness_mean_ = last[1];
  last_staleness_max_ = last[2];
  client_dispatches_ = in.get_u64(p + "client_dispatches");
  if (static_cast<Index>(client_dispatches_.size()) != n) {
    throw InputError("checkpoint: " + p + "client_dispatches must hold one count per client");
  }
  histogram_ = in.get_u64(p + "histogram");
  if (in.has(p + "client_applied")) {  // absent from checkpoints written before the table
    client_applied_ = in.get_u64(p + "client_applied");
    client_staleness_ = in.get_u64(p + "client_staleness");
    if (static_cast<Index>(client_applied_.size()) != n ||
        static_cast<Index>(client_staleness_.size()) != n) {
      throw InputError("checkpoint: " + p + "client_* must hold one count per client");
    }
  }
  const auto& qc = in.get_u64(p + "queue/client");
  const auto& qv = in.get_u64(p + "queue/version");
  const auto& qs = in.get_u64(p + "queue/seq");
  const auto& qd = in.get_doubles(p + "queue/t_dispatch");
  const auto& qa = in.get_doubles(p + "queue/t_arrival");
  if (qv.size() != qc.size() || qs.size() != qc.size() || qd.size() != qc.size() ||
      qa.size() != qc.size()) {
    throw InputError("checkpoint: " + p + "queue/* must have equal lengths");
  }
  queue_.clear();
  busy_.assign(static_cast<std::size_t>(n), 0);
  for (std::size_t i = 0; i < qc.size(); ++i) {
    if (qc[i] >= static_cast<std::uint64_t>(n))
      throw InputError("checkpoint: queue client out of range");
    queue_.push({static_cast<Index>(qc[i]), static_cast<std::int64_t>(qv[i]), qd[i], qa[i], qs[i]});
    busy_[qc[i]] = 1;
  }
  const auto& bc = in.get_u64(p + "buffer/client");
  const auto& bt = in.get_u64(p + "buffer/staleness");
  if (bt.size() != bc.size())
    throw InputError("checkpoint: " + p + "buffer/* must have equal lengths");
  buffer_.clear();
  for (std::size_t i = 0; i < bc.size(); ++i) {
    if (bc[i] >= static_cast<std::uint64_t>(n))
      throw InputError("checkpoint: buffer client out of range");
    buffer_.push_back({static_cast<Index>(bc[i]), static_cast<std::int64_t>(bt[i])});
  }
  received_ = arrivals_ + buffer_.size();  // virtual clock: every arrival is aggregated or buffered
  const Index first = ctx_.placement.local_first();
  for (std::size_t i = 0; i < held_.size(); ++i) {
    const Index a = first + static_cast<Index>(i);
    const auto hk = StateArchive::agent_key(a, "held_update");
    const auto bk = StateArchive::agent_key(a, "buffered_update");
    const auto gk = StateArchive::agent_key(a, "grad_evals");
    held_[i] = in.has(hk) ? vec(hk) : Vector();
    has_buffered_[i] = in.has(bk) ? 1 : 0;
    buffered_[i] = in.has(bk) ? vec(bk) : Vector();
    grad_evals_[i] = in.has(gk) ? in.get_count(gk) : 0;
    if (busy_[static_cast<std::size_t>(a)] && held_[i].size() == 0) {
      throw InputError("checkpoint: client " + std::to_string(a) + " is in flight without " + hk);
    }
  }
  load_method(in);
}

}  // namespace distopt
