// The sparse aggregation path of the stochastic bilevel methods (SparseAgentSum, used when a
// problem's mixed products are sparse and f_i ignores x) on a small `reweight` problem, whose
// mixed products touch only the batch's per-sample weights: every method computes the same bits
// through the sparse path as through the dense one (the same problem with sparse_cross() off),
// the same bits at any rank count with Reduction::kOrdered (1e-12 with allreduce), and counts
// exactly (4 + 12 nnz) bytes per record of nnz = B entries.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "distopt/bilevel/bsvrb.hpp"
#include "distopt/bilevel/f2sa.hpp"
#include "distopt/bilevel/reweight.hpp"
#include "distopt/bilevel/stocbio.hpp"
#include "distopt/comm/communicator.hpp"
#include "distopt/comm/sparse_agent_sum.hpp"
#include "test_bilevel_common.hpp"

using namespace distopt;

namespace {

constexpr Index kBlocks = 6;
constexpr Index kPerIter = 4;  // I (does not divide m: the sampler's fill-up path)
constexpr Index kBatch = 7;    // B distinct rows per batch
constexpr std::uint64_t kSeed = 21;
constexpr std::int64_t kSteps = 12;

ReweightOptions small_reweight() {
  ReweightOptions o;
  o.train_rows = 80;
  o.val_rows = 40;
  o.pool = 7;
  o.noise = 0.25;
  o.lower_reg = 0.05;
  return o;
}

/// reweight through the dense path: the same oracles, sparse_cross() off.
class DenseReweight : public ReweightProblem {
 public:
  using ReweightProblem::ReweightProblem;
  bool sparse_cross() const override { return false; }
};

/// The problem over `comm`'s ranks, sparse or dense, built once per process (reading the IDX
/// files dominates the suite's time otherwise).
ReweightProblem& problem_on(Communicator& comm, bool dense) {
  static std::map<std::pair<int, bool>, std::unique_ptr<ReweightProblem>> cache;
  auto& p = cache[{comm.size(), dense}];
  if (!p) {
    const Placement pl(kBlocks, comm.size(), comm.rank());
    if (dense) {
      p = std::make_unique<DenseReweight>(small_reweight(), "fmnist", kBlocks, kSeed, pl);
    } else {
      p = std::make_unique<ReweightProblem>(small_reweight(), "fmnist", kBlocks, kSeed, pl);
    }
  }
  return *p;
}

enum class Kind { kBsvrb1, kBsvrb2, kF2sa, kStocbio };
constexpr Kind kAll[] = {Kind::kBsvrb1, Kind::kBsvrb2, Kind::kF2sa, Kind::kStocbio};
const char* kind_name(Kind k) {
  switch (k) {
    case Kind::kBsvrb1:
      return "bsvrb1";
    case Kind::kBsvrb2:
      return "bsvrb2";
    case Kind::kF2sa:
      return "f2sa";
    case Kind::kStocbio:
      return "stocbio";
  }
  return "?";
}

std::unique_ptr<Algorithm> make(Kind k, Communicator& comm, BilevelProblem& p, Reduction red) {
  BilevelContext ctx{comm, p, kSeed, red};
  BlockSamplerOptions s;
  s.blocks_per_iter = kPerIter;
  s.block_batch = kBatch;
  if (k == Kind::kF2sa) {
    F2saOptions o;
    o.sampler = s;
    o.inner_steps = 3;
    o.alpha = 0.05;
    o.xi = 20;
    return std::make_unique<F2sa>(ctx, o);
  }
  if (k == Kind::kStocbio) {
    StocbioOptions o;
    o.sampler = s;
    o.lr = 30;
    o.inner_steps = 3;
    o.neumann_steps = 4;
    return std::make_unique<Stocbio>(ctx, o);
  }
  BsvrbOptions o;
  o.version = k == Kind::kBsvrb1 ? BsvrbVersion::kV1 : BsvrbVersion::kV2;
  o.sampler = s;
  o.lr = 30;  // per-sample weights: the hypergradient is O(1/n) per coordinate
  o.hessian_bound = 0.1;
  return std::make_unique<Bsvrb>(ctx, o);
}

struct RunResult {
  Vector x;
  std::uint64_t up = 0, down = 0, mpi = 0;  // summed over ranks
};

RunResult run(Kind k, Communicator& comm, bool dense, Reduction red = Reduction::kOrdered) {
  ReweightProblem& p = problem_on(comm, dense);
  auto m = make(k, comm, p, red);
  m->initialize(p.initial_upper(1));
  const auto t0 = comm.traffic().local_total();
  const std::uint64_t mpi0 = comm.traffic().mpi_bytes();
  for (std::int64_t t = 1; t <= kSteps; ++t) m->step(t);
  const auto t1 = comm.traffic().local_total();
  RunResult r;
  r.x = m->model();
  r.up = comm.allreduce_sum(t1.bytes_up - t0.bytes_up);
  r.down = comm.allreduce_sum(t1.bytes_down - t0.bytes_down);
  r.mpi = comm.allreduce_sum(comm.traffic().mpi_bytes() - mpi0);
  return r;
}

}  // namespace

TEST(BilevelSparse, SparsePathGivesTheDensePathsBits) {
  auto comm = Communicator::world();
  for (Kind k : kAll) {
    const RunResult sparse = run(k, comm, false), dense = run(k, comm, true);
    ASSERT_EQ(sparse.x.size(), small_reweight().train_rows);
    EXPECT_GT((sparse.x - problem_on(comm, false).initial_upper(1)).norm(), 0.0)
        << kind_name(k) << ": x moved";
    EXPECT_EQ(sparse.x, dense.x) << kind_name(k);
    // Physical traffic: the sparse records are smaller than the dense vectors (n = 80 doubles).
    if (comm.size() > 1) {
      EXPECT_LT(sparse.mpi, dense.mpi) << kind_name(k);
    }
  }
}

TEST(BilevelSparse, SameBitsAtAnyRankCountAndExactBytes) {
  auto world = Communicator::world();
  auto self = Communicator::self();
  const std::uint64_t visits = kSteps * kPerIter;
  const std::uint64_t record = SparseAgentSum::record_bytes(kBatch);  // B distinct rows
  for (Kind k : kAll) {
    const RunResult w = run(k, world, false), s = run(k, self, false);
    EXPECT_EQ(w.x, s.x) << kind_name(k) << ": ordered, bitwise at any rank count";
    const RunResult a = run(k, world, false, Reduction::kAllreduce);
    EXPECT_LT(test::rel_err(a.x, s.x), 1e-12) << kind_name(k) << ": allreduce";
    // Up: one record per sampled block. Down: the x entries its oracles read, one record per
    // point evaluated (BSVRB: x_t and x_{t−1}) or per batch (F2SA: T + 1, stocBiO: D + Q + 2).
    EXPECT_EQ(w.up, visits * record) << kind_name(k);
    const std::uint64_t per_visit =
        k == Kind::kF2sa ? 3 + 1 : (k == Kind::kStocbio ? 3 + 4 + 2 : 2);
    EXPECT_EQ(w.down, visits * per_visit * record) << kind_name(k);
  }
}
