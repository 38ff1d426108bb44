#pragma once
// Counter-based random streams (Philox4x32-10, Salmon et al., SC'11). A stream is keyed by
// (seed, agent, step, purpose): the numbers an agent draws at a step do not depend on which rank
// owns the agent or on what other agents drew, so results are the same at any number of ranks,
// and a resumed run redraws exactly what the uninterrupted one would have.
#include <array>
#include <cstdint>
#include <limits>
#include <vector>

#include "distopt/core/types.hpp"

namespace distopt {

/// What a stream is used for; part of the key so that two uses never share numbers.
enum class Purpose : std::uint32_t {
  kInit = 1,        ///< initialisation of method state (BSVRB's reference-code start)
  kData = 2,        ///< synthetic datasets (data/synthetic.hpp)
  kPartition = 3,   ///< assignment of samples to agents (data/partition.hpp)
  kSampling = 4,    ///< server's choice of active clients
  kMinibatch = 5,   ///< an agent's minibatch indices
  kCompressor = 6,  ///< Rand-k indices, QSGD/natural rounding
  kClock = 7,       ///< Poisson clocks of gossip nodes and edges
  kModelInit = 8,   ///< initial model parameters (Mlp::initial_point)
  kUser = 100,      ///< free for user code
};

/// One Philox4x32-10 stream keyed by (seed, agent, step, purpose); satisfies
/// UniformRandomBitGenerator, so it also works with `<random>` distributions and std::shuffle.
class RandomStream {
 public:
  /// Each call of operator() returns 32 random bits.
  using result_type = std::uint32_t;
  /// Smallest value operator() returns (0).
  static constexpr result_type min() { return 0; }
  /// Largest value operator() returns (2^32 - 1).
  static constexpr result_type max() { return std::numeric_limits<result_type>::max(); }

  /// The stream of (seed, agent, step, purpose), at position 0. (seed, agent) form the Philox
  /// key (hashed); (step, purpose) the hashed upper half of the counter, so streams that differ
  /// in any of the four draw unrelated blocks.
  RandomStream(std::uint64_t seed, std::uint64_t agent, std::uint64_t step,
               Purpose purpose = Purpose::kUser);

  /// 32 uniformly distributed bits (UniformRandomBitGenerator).
  result_type operator()();
  /// 64 uniformly distributed bits (two calls of operator(); the first gives the low half).
  std::uint64_t next_u64();
  /// Uniform in [0, 1) with 53 random bits.
  double uniform();
  /// Uniform in (0, 1]: safe for log().
  double uniform_pos() { return 1.0 - uniform(); }
  /// Standard normal (Box-Muller, both values used).
  double normal();
  /// Exponential with the given rate (> 0; mean 1/rate), by inversion.
  double exponential(double rate);
  /// Uniform integer in [0, n), unbiased (rejection); 0 if n <= 1.
  std::uint64_t uniform_int(std::uint64_t n);
  /// k distinct integers from [0, n) in increasing order (Floyd's algorithm + sort; a partial
  /// Fisher-Yates when k > n/4). Empty if k <= 0, all of [0, n) if k >= n.
  std::vector<Index> sample_without_replacement(Index n, Index k);
  /// Fisher-Yates shuffle of the random-access range [first, last).
  template <class It>
  void shuffle(It first, It last) {
    for (auto n = last - first; n > 1; --n) {
      auto j = static_cast<decltype(n)>(uniform_int(static_cast<std::uint64_t>(n)));
      std::swap(first[n - 1], first[j]);
    }
  }
  /// Position in the stream (number of 128-bit blocks consumed), for checkpoints.
  std::uint64_t position() const { return counter_; }

 private:
  void refill();
  std::array<std::uint32_t, 2> key_;
  std::uint64_t hi_;  // upper 64 bits of the counter: step and purpose
  std::uint64_t counter_ = 0;
  std::array<std::uint32_t, 4> block_{};
  int used_ = 4;
  bool has_spare_normal_ = false;
  double spare_normal_ = 0.0;
};

/// Philox4x32-10 block function; exposed for tests against the Random123 known-answer vectors.
std::array<std::uint32_t, 4> philox4x32(std::array<std::uint32_t, 4> counter,
                                        std::array<std::uint32_t, 2> key);

}  // namespace distopt
