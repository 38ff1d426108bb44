#include "distopt/federated/fedfix.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "distopt/core/check.hpp"
#include "distopt/core/error.hpp"

namespace distopt {

void FedFixOptions::validate() const {
  async.validate();
  check::positive("aggregation-interval", interval);
  if (!std::isfinite(interval)) throw ConfigError("aggregation-interval", "must be finite");
}

namespace {
FedFixOptions validated(FedFixOptions o) {
  o.validate();
  return o;
}
}  // namespace

FedFix::FedFix(RunContext& ctx, FedFixOptions options)
    : AsyncFederated(ctx, "fedfix", validated(options).async), o_(std::move(options)) {}

void FedFix::initialize(const Vector& x0) {
  AsyncFederated::initialize(x0);
  periods_.clear();
  for (double tau : compute_times()) {
    const double k = std::ceil(tau / o_.interval);
    if (!(k < 1e15)) {
      throw ConfigError("aggregation-interval", "a client's compute time " + std::to_string(tau) +
                                                    " is more than 1e15 intervals");
    }
    periods_.push_back(std::max<std::int64_t>(1, static_cast<std::int64_t>(k)));
  }
}

void FedFix::wall_start() {
  for (Index i = 0; i < ctx_.placement.agents(); ++i) dispatch(i);
}

bool FedFix::wall_ready() const {
  return wall_time() >= static_cast<double>(version_ + 1) * o_.interval;
}

void FedFix::server_update() {
  const bool ceil = o_.weights == FedFixWeights::kCeil;
  std::map<Index, std::int64_t> tau;  // wall clock: the staleness of each buffered client
  for (const auto& b : buffered()) tau[b.client] = b.staleness;
  aggregate([&](Index c) {
    const auto k = static_cast<std::size_t>(c);
    const double p = ctx_.agent_weights[k];
    if (!ceil) return p;
    const double periods =
        wall() ? static_cast<double>(tau[c] + 1) : static_cast<double>(periods_[k]);
    return periods * p;
  });
}

void FedFix::after_update() {
  std::sort(returned_.begin(), returned_.end());
  for (Index i : returned_) dispatch(i);
  returned_.clear();
}

void FedFix::step(std::int64_t /*round*/) {
  if (wall()) {
    wall_round();
    return;
  }
  const Index n = ctx_.placement.agents();
  // A client dispatched at interval m returns at the aggregation m + k_i: its InFlight carries
  // that aggregation's time (m + k_i) Δt, computed from integers so that the comparison below is
  // exact; the metrics' arrival is the same boundary.
  auto start = [&](Index i, std::int64_t interval) {
    dispatch(i,
             static_cast<double>(interval + periods_[static_cast<std::size_t>(i)]) * o_.interval);
  };
  if (dispatches_ == 0) {
    for (Index i = 0; i < n; ++i) start(i, 0);
  }
  const std::int64_t now = version_ + 1;  // this aggregation's index n
  t_now_ = static_cast<double>(now) * o_.interval;
  std::vector<Index> returned;
  while (!queue_.empty() && queue_.top().t_arrival <= t_now_) {
    const InFlight f = next_arrival();
    buffer(f, 1.0);
    returned.push_back(f.client);
  }
  server_update();
  std::sort(returned.begin(), returned.end());
  for (Index i : returned) start(i, now);
}

}  // namespace distopt
