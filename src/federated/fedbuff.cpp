#include "distopt/federated/fedbuff.hpp"

#include <algorithm>
#include <cmath>

#include "distopt/core/check.hpp"
#include "distopt/core/error.hpp"
#include "distopt/core/parse.hpp"
#include "distopt/core/random.hpp"

namespace distopt {

StalenessWeight StalenessWeight::parse(const std::string& spec) {
  StalenessWeight s;
  if (spec == "sqrt") {
    s.kind = Kind::kSqrt;
  } else if (spec == "constant") {
    s.kind = Kind::kConstant;
  } else if (spec.rfind("poly:", 0) == 0) {
    s.kind = Kind::kPolynomial;
    s.exponent = parse_double("staleness", spec.substr(5));
    check::nonnegative("staleness", s.exponent);
    if (!std::isfinite(s.exponent)) throw ConfigError("staleness", "the exponent must be finite");
  } else {
    throw ConfigError("staleness", "must be sqrt, constant or poly:A (got '" + spec + "')");
  }
  return s;
}

double StalenessWeight::operator()(std::int64_t tau) const {
  const double t = static_cast<double>(tau);
  switch (kind) {
    case Kind::kSqrt:
      return 1.0 / std::sqrt(1.0 + t);
    case Kind::kConstant:
      return 1.0;
    case Kind::kPolynomial:
      return std::pow(1.0 + t, -exponent);
  }
  return 1.0;
}

void FedBuffOptions::validate() const {
  async.validate();
  check::at_least("buffer-size", buffer_size, 1);
  check::at_least("concurrency", concurrency, 0);
  if (staleness.kind == StalenessWeight::Kind::kPolynomial) {
    check::nonnegative("staleness", staleness.exponent);
  }
}

namespace {
FedBuffOptions validated(FedBuffOptions o) {
  o.validate();
  return o;
}
}  // namespace

FedBuff::FedBuff(RunContext& ctx, FedBuffOptions options)
    : AsyncFederated(ctx, "fedbuff", validated(options).async), o_(std::move(options)) {
  const Index n = ctx.placement.agents();
  if (o_.concurrency > n) {
    throw ConfigError("concurrency",
                      "must not exceed the number of clients --agents = " + std::to_string(n) +
                          " (got " + std::to_string(o_.concurrency) + ")");
  }
  concurrency_ = o_.concurrency > 0 ? o_.concurrency : n;
}

void FedBuff::dispatch_replacements() {
  const Index n = ctx_.placement.agents();
  for (; pending_ > 0; --pending_) {
    // The k-th idle client, k uniform: every idle client equally likely.
    Index idle = 0;
    for (Index i = 0; i < n; ++i) idle += in_flight(i) ? 0 : 1;
    RandomStream rng(ctx_.seed, 1, dispatches_, Purpose::kSampling);
    auto k = static_cast<Index>(rng.uniform_int(static_cast<std::uint64_t>(idle)));
    for (Index i = 0; i < n; ++i) {
      if (in_flight(i)) continue;
      if (k-- == 0) {
        dispatch(i);
        break;
      }
    }
  }
}

void FedBuff::dispatch_initial() {
  RandomStream rng(ctx_.seed, 1, 0, Purpose::kSampling);
  for (Index i : rng.sample_without_replacement(ctx_.placement.agents(), concurrency_)) dispatch(i);
}

void FedBuff::wall_start() {
  dispatch_initial();
}

double FedBuff::arrival_factor(const InFlight& f) const {
  return o_.staleness(version_ - f.version);
}

bool FedBuff::buffer_full() const {
  return buffered().size() >= static_cast<std::size_t>(o_.buffer_size);
}

void FedBuff::on_arrival(const InFlight& /*f*/) {
  ++pending_;
  dispatch_replacements();
}

void FedBuff::step(std::int64_t /*round*/) {
  if (wall()) {
    wall_round();
    return;
  }
  if (dispatches_ == 0) dispatch_initial();
  const auto K = static_cast<std::size_t>(o_.buffer_size);
  for (;;) {
    // Replacements download once every client returning at this instant has been buffered.
    if (pending_ > 0 && (queue_.empty() || queue_.top().t_arrival > t_now_))
      dispatch_replacements();
    const InFlight f = next_arrival();
    buffer(f, o_.staleness(version_ - f.version));
    ++pending_;
    if (buffered().size() < K) continue;
    server_update();
    return;
  }
}

void FedBuff::server_update() {
  const auto K = static_cast<std::size_t>(o_.buffer_size);
  {
    if (o_.weights == FedBuffWeights::kUniform) {
      const double w = 1.0 / static_cast<double>(K);
      aggregate([w](Index) { return w; });
    } else {
      // Σ_{buffer} p_j in client order (one term per arrival), as FedAvg sums its P_S.
      std::vector<Index> clients;
      for (const auto& b : buffered()) clients.push_back(b.client);
      std::sort(clients.begin(), clients.end());
      double mass = 0;
      for (Index c : clients) mass += ctx_.agent_weights[static_cast<std::size_t>(c)];
      aggregate([&](Index c) {
        return mass > 0 ? ctx_.agent_weights[static_cast<std::size_t>(c)] / mass : 0.0;
      });
    }
  }
}

void FedBuff::save_method(StateArchive& out) const {
  out.put_u64("server/fedbuff/pending", {pending_});
}

void FedBuff::load_method(const StateArchive& in) {
  pending_ = in.get_count("server/fedbuff/pending");
}

}  // namespace distopt
