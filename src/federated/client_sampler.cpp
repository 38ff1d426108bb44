#include "distopt/federated/client_sampler.hpp"

#include <algorithm>
#include <cmath>

#include "distopt/core/check.hpp"
#include "distopt/core/error.hpp"
#include "distopt/core/random.hpp"

namespace distopt {

ClientSampler::ClientSampler(Index n_clients, Index per_round, std::uint64_t seed)
    : n_(n_clients), m_(per_round), seed_(seed) {
  if (n_clients < 1) throw ConfigError("agents", "federated methods need at least one client");
  if (per_round < 1 || per_round > n_clients) {
    throw ConfigError("clients-per-round", "must be in [1, " + std::to_string(n_clients) +
                                               "] (got " + std::to_string(per_round) + ")");
  }
  p_ = static_cast<double>(m_) / static_cast<double>(n_);
}

ClientSampler ClientSampler::bernoulli(Index n_clients, double p, std::uint64_t seed) {
  check::in_range("participation", p, 0.0, 1.0, /*lo_open=*/true);
  ClientSampler s(n_clients, n_clients, seed);
  s.scheme_ = SamplingScheme::kBernoulli;
  s.p_ = p;
  return s;
}

void ClientSampler::validate_per_round(double participation, Index clients_per_round) {
  check::at_least("clients-per-round", clients_per_round, 0);
  if (clients_per_round > 0) {
    if (participation != 1.0) {
      throw ConfigError("clients-per-round",
                        "give either --clients-per-round or --participation, not both");
    }
  } else {
    check::in_range("participation", participation, 0.0, 1.0, /*lo_open=*/true);
  }
}

Index ClientSampler::per_round(double participation, Index clients_per_round, Index n_clients) {
  validate_per_round(participation, clients_per_round);
  if (clients_per_round > 0) {
    if (clients_per_round > n_clients) {
      throw ConfigError("clients-per-round", "must not exceed the number of clients --agents = " +
                                                 std::to_string(n_clients) + " (got " +
                                                 std::to_string(clients_per_round) + ")");
    }
    return clients_per_round;
  }
  const auto r = static_cast<Index>(std::llround(participation * static_cast<double>(n_clients)));
  return std::clamp<Index>(r, 1, n_clients);
}

const std::vector<Index>& ClientSampler::sample(std::int64_t round) {
  if (scheme_ == SamplingScheme::kBernoulli && p_ < 1.0) {
    // Attempt a draws from agent slot a of the sampling stream; an empty draw is redrawn.
    for (std::uint64_t attempt = 0;; ++attempt) {
      RandomStream rng(seed_, attempt, static_cast<std::uint64_t>(round), Purpose::kSampling);
      active_.clear();
      for (Index i = 0; i < n_; ++i) {
        if (rng.uniform() < p_) active_.push_back(i);
      }
      if (!active_.empty()) return active_;
    }
  }
  if (m_ == n_) {
    if (static_cast<Index>(active_.size()) != n_) {
      active_.resize(static_cast<std::size_t>(n_));
      for (Index i = 0; i < n_; ++i) active_[static_cast<std::size_t>(i)] = i;
    }
    return active_;
  }
  // The server's stream: agent slot 0 with the sampling purpose (clients never use kSampling).
  RandomStream rng(seed_, 0, static_cast<std::uint64_t>(round), Purpose::kSampling);
  active_ = rng.sample_without_replacement(n_, m_);
  std::sort(active_.begin(), active_.end());  // already sorted; cheap, and makes it a contract
  return active_;
}

}  // namespace distopt
