// The block sampler: epochs cover every block exactly once when I divides m (and at least once
// otherwise, with I distinct blocks every iteration), uniform block and row frequencies, the same
// draws at any rank count, iteration t's draw independent of earlier calls, and the keys its
// errors name.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

#include "distopt/bilevel/block_sampler.hpp"
#include "distopt/comm/communicator.hpp"
#include "test_bilevel_common.hpp"

using namespace distopt;

namespace {

MultitaskOptions tiny_rows() {
  MultitaskOptions o = test::small_multitask();
  o.features = 2;
  o.rank = 1;
  o.train_rows = 30;
  o.val_rows = 25;
  return o;
}

BlockSamplerOptions ib(Index i, Index b) {
  BlockSamplerOptions o;
  o.blocks_per_iter = i;
  o.block_batch = b;
  return o;
}

/// Every draw of iterations 1..T (blocks, then each sampled block's lower and upper rows) as one
/// flat list.
std::vector<Index> flat_draws(BlockSampler& s, std::int64_t T) {
  std::vector<Index> out;
  BlockBatch bb;
  for (std::int64_t t = 1; t <= T; ++t) {
    for (Index i : s.blocks(t)) {
      out.push_back(i);
      s.batch(t, i, bb);
      out.insert(out.end(), bb.lower.begin(), bb.lower.end());
      out.insert(out.end(), bb.upper.begin(), bb.upper.end());
    }
  }
  return out;
}

}  // namespace

TEST(BlockSampler, EachEpochCoversEveryBlockOnceWhenIDividesM) {
  auto comm = Communicator::world();
  auto p = test::multitask_on(comm, tiny_rows(), 12, 1);
  BlockSampler s(*p, ib(4, 8), 42);
  ASSERT_EQ(s.iterations_per_epoch(), 3);
  for (std::int64_t e = 0; e < 50; ++e) {
    std::vector<Index> seen;
    for (std::int64_t q = 1; q <= 3; ++q) {
      const auto& b = s.blocks(3 * e + q);
      ASSERT_EQ(b.size(), 4u);
      EXPECT_TRUE(std::is_sorted(b.begin(), b.end()));
      EXPECT_EQ(s.epoch_of(3 * e + q), e);
      seen.insert(seen.end(), b.begin(), b.end());
    }
    std::sort(seen.begin(), seen.end());
    std::vector<Index> all(12);
    for (Index i = 0; i < 12; ++i) all[static_cast<std::size_t>(i)] = i;
    EXPECT_EQ(seen, all) << "epoch " << e;
  }
}

TEST(BlockSampler, RemainderIterationFillsUpWithDistinctBlocks) {
  auto comm = Communicator::world();
  auto p = test::multitask_on(comm, tiny_rows(), 10, 1);
  BlockSampler s(*p, ib(4, 8), 42);  // E = 3: 4 + 4 + (2 left + 2 fill-ins)
  ASSERT_EQ(s.iterations_per_epoch(), 3);
  for (std::int64_t e = 0; e < 50; ++e) {
    std::set<Index> seen;
    for (std::int64_t q = 1; q <= 3; ++q) {
      const auto& b = s.blocks(3 * e + q);
      ASSERT_EQ(b.size(), 4u);
      EXPECT_EQ(std::set<Index>(b.begin(), b.end()).size(), 4u) << "distinct within an iteration";
      seen.insert(b.begin(), b.end());
    }
    EXPECT_EQ(seen.size(), 10u) << "every block at least once in epoch " << e;
  }
}

TEST(BlockSampler, BlockAndRowFrequenciesAreUniform) {
  auto comm = Communicator::world();
  auto p = test::multitask_on(comm, tiny_rows(), 10, 1);
  for (Index I : {3, 5}) {  // 3 does not divide 10, 5 does
    BlockSampler s(*p, ib(I, 6), 7);
    const std::int64_t T = 6000;
    std::vector<double> count(10, 0.0);
    for (std::int64_t t = 1; t <= T; ++t) {
      for (Index i : s.blocks(t)) count[static_cast<std::size_t>(i)] += 1;
    }
    const double expect = static_cast<double>(T * I) / 10.0;
    for (Index i = 0; i < 10; ++i) {
      // Within an epoch the counts are (nearly) deterministic, so the spread is far below 3%.
      EXPECT_NEAR(count[static_cast<std::size_t>(i)], expect, 0.03 * expect) << "I=" << I;
    }
  }
  // Rows of one block: B = 6 of 30 lower rows (25 upper rows), each row with probability B/n.
  BlockSampler s(*p, ib(2, 6), 9);
  std::vector<double> lo(30, 0.0), up(25, 0.0);
  BlockBatch bb;
  const std::int64_t T = 5000;
  for (std::int64_t t = 1; t <= T; ++t) {
    s.batch(t, 3, bb);
    ASSERT_EQ(bb.lower.size(), 6u);
    ASSERT_EQ(bb.upper.size(), 6u);
    EXPECT_TRUE(std::adjacent_find(bb.lower.begin(), bb.lower.end(),
                                   [](Index a, Index b) { return a >= b; }) == bb.lower.end());
    for (Index r : bb.lower) lo[static_cast<std::size_t>(r)] += 1;
    for (Index r : bb.upper) up[static_cast<std::size_t>(r)] += 1;
  }
  // Binomial(T, B/n): mean 1000 (sd ≈ 28) and 1200 (sd ≈ 31); 6 sd.
  for (double c : lo) EXPECT_NEAR(c, T * 6.0 / 30.0, 6 * std::sqrt(T * 0.2 * 0.8));
  for (double c : up) EXPECT_NEAR(c, T * 6.0 / 25.0, 6 * std::sqrt(T * 0.24 * 0.76));
  // B = 0: full batches.
  BlockSampler full(*p, ib(2, 0), 9);
  full.batch(1, 0, bb);
  EXPECT_TRUE(bb.lower.empty());
  EXPECT_TRUE(bb.lower_batch().all_rows());
  EXPECT_TRUE(bb.upper_batch().all_rows());
}

TEST(BlockSampler, SameDrawsAtAnyRankCount) {
  auto world = Communicator::world();
  auto self = Communicator::self();
  auto pw = test::multitask_on(world, tiny_rows(), 10, 1);
  auto ps = test::multitask_on(self, tiny_rows(), 10, 1);
  BlockSampler sw(*pw, ib(3, 5), 123), ss(*ps, ib(3, 5), 123);
  const auto mine = flat_draws(sw, 40);
  EXPECT_EQ(mine, flat_draws(ss, 40));
  std::vector<Index> root = mine;
  world.broadcast(root);
  EXPECT_EQ(mine, root) << "every rank draws what rank 0 draws";
  // Another seed draws something else.
  BlockSampler other(*ps, ib(3, 5), 124);
  EXPECT_NE(mine, flat_draws(other, 40));
}

TEST(BlockSampler, IterationDrawIsIndependentOfEarlierCalls) {
  auto comm = Communicator::world();
  auto p = test::multitask_on(comm, tiny_rows(), 10, 1);
  BlockSampler a(*p, ib(3, 4), 5), b(*p, ib(3, 4), 5);
  std::vector<std::vector<Index>> in_order;
  for (std::int64_t t = 1; t <= 60; ++t) in_order.push_back(a.blocks(t));
  // Backwards, and jumping between epochs: the same sets.
  for (std::int64_t t = 60; t >= 1; --t) {
    EXPECT_EQ(b.blocks(t), in_order[static_cast<std::size_t>(t - 1)]) << t;
  }
  EXPECT_EQ(b.blocks(17), in_order[16]);
  EXPECT_EQ(b.blocks(2), in_order[1]);
  BlockBatch x1, x2;
  a.batch(33, 4, x1);
  b.batch(1, 4, x2);
  b.batch(33, 4, x2);
  EXPECT_EQ(x1.lower, x2.lower);
  EXPECT_EQ(x1.upper, x2.upper);
}

TEST(BlockSampler, ValidationNamesTheKeys) {
  auto comm = Communicator::world();
  auto p = test::multitask_on(comm, tiny_rows(), 10, 1);  // 30 lower, 25 upper rows per block
  test::expect_config_error([&] { BlockSampler(*p, ib(11, 5), 1); }, "blocks-per-iter");
  test::expect_config_error([&] { BlockSampler(*p, ib(0, 5), 1); }, "blocks-per-iter");
  test::expect_config_error([&] { BlockSampler(*p, ib(2, 26), 1); }, "block-batch");
  test::expect_config_error([&] { BlockSampler(*p, ib(2, -1), 1); }, "block-batch");
  EXPECT_NO_THROW(BlockSampler(*p, ib(10, 25), 1));
}

// Stratified sampling on a placement of m = 10 blocks over 3 ranks (4, 3, 3 blocks), I = 4:
// quotas ⌊I n_r / m⌋ = 1, 1, 1 with remainders ρ = 6, 2, 2 (of m = 10), so one extra block per
// iteration, to rank r with probability ρ_r / m = 0.6, 0.2, 0.2. Every iteration has I distinct
// blocks, each rank q_r or q_r + 1 of its own; over T = 20000 iterations every block's frequency
// is I/m = 0.4 and every rank's extra-block frequency ρ_r / m, each within 5 standard deviations
// (σ ≤ √(0.25 / T) ≈ 0.0035: tolerance 0.018). The draw is the same on every rank (it uses only
// the placement's ranges) and differs from the uniform one.
TEST(BlockSampler, StratifiedGivesEveryRankItsShareAndEveryBlockProbabilityIOverM) {
  auto comm = Communicator::world();
  constexpr Index kM = 10, kI = 4;
  constexpr std::int64_t kT = 20000;
  const Placement pl(kM, 3, 0);  // a placement over 3 ranks, whatever the communicator
  MultitaskProblem p(tiny_rows(), kM, 1, pl);
  BlockSamplerOptions o = ib(kI, 5);
  o.sampling = BlockSampling::kStratified;
  BlockSampler s(p, o, 9);
  BlockSamplerOptions ou = ib(kI, 5);
  BlockSampler uniform(p, ou, 9);
  std::vector<double> block_freq(kM, 0.0), extra_freq(3, 0.0);
  const Index quota[] = {1, 1, 1};
  bool differs = false;
  std::vector<Index> first_draws;
  for (std::int64_t t = 1; t <= kT; ++t) {
    const std::vector<Index> b = s.blocks(t);
    ASSERT_EQ(static_cast<Index>(b.size()), kI);
    ASSERT_TRUE(std::adjacent_find(b.begin(), b.end()) == b.end()) << "distinct, sorted";
    for (int r = 0; r < 3; ++r) {
      const auto n = std::count_if(b.begin(), b.end(), [&](Index i) { return pl.owner(i) == r; });
      ASSERT_TRUE(n == quota[r] || n == quota[r] + 1) << "rank " << r << " at " << t;
      extra_freq[static_cast<std::size_t>(r)] += static_cast<double>(n - quota[r]) / kT;
    }
    for (Index i : b) block_freq[static_cast<std::size_t>(i)] += 1.0 / kT;
    if (t <= 50) {
      differs = differs || b != uniform.blocks(t);
      first_draws.insert(first_draws.end(), b.begin(), b.end());
    }
  }
  for (Index i = 0; i < kM; ++i) {
    EXPECT_NEAR(block_freq[static_cast<std::size_t>(i)], 0.4, 0.018) << "block " << i;
  }
  EXPECT_NEAR(extra_freq[0], 0.6, 0.018);
  EXPECT_NEAR(extra_freq[1], 0.2, 0.018);
  EXPECT_NEAR(extra_freq[2], 0.2, 0.018);
  EXPECT_TRUE(differs);
  // Every rank of the communicator draws the same blocks.
  std::vector<std::int64_t> mine(first_draws.begin(), first_draws.end());
  std::vector<std::int64_t> theirs = mine;
  comm.broadcast(std::span<std::int64_t>(theirs));
  EXPECT_EQ(mine, theirs);
  EXPECT_EQ(block_sampling_from_string(to_string(BlockSampling::kStratified)),
            BlockSampling::kStratified);
  test::expect_config_error([] { block_sampling_from_string("random"); }, "block-sampling");
}
