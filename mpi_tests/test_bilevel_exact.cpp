// Exact full-batch hypergradient descent (`exact-hypergrad`) on a small multitask problem:
// convergence to a stationary point of F, monotone decrease of F, bitwise the same model at any
// rank count with Reduction::kOrdered (1e-12 with allreduce), checkpoint + continue equal to the
// uninterrupted run (also when resumed at another rank count), its metrics, and the keys its
// validation names.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <vector>

#include "distopt/bilevel/exact_hypergradient_descent.hpp"
#include "distopt/comm/communicator.hpp"
#include "distopt/io/metrics.hpp"
#include "distopt/method/state_archive.hpp"
#include "test_bilevel_common.hpp"

using namespace distopt;

namespace {

// m = 8 tasks, p = 6 features, k = 2 (x of dimension 12), 40 training and 40 validation rows per
// task, λ = 0.5, ρ = 0.05, σ = 0.1.
constexpr Index kBlocks = 8;
constexpr std::uint64_t kSeed = 17;

MultitaskOptions problem_options() { return test::method_test_multitask(); }

ExactHypergradOptions method_options(double lr) {
  ExactHypergradOptions o;
  o.lr = lr;
  return o;
}

struct Trajectory {
  Vector x;
  std::vector<double> values;  // F(x_t) of every step, before its update
  double grad_norm_sq = 0;     // of the last step
};

/// `steps` steps from the problem's initial point on `comm` (all blocks of a self communicator
/// are on this rank).
Trajectory run(Communicator& comm, std::int64_t steps, const ExactHypergradOptions& o,
               Reduction red = Reduction::kOrdered) {
  auto p = test::multitask_on(comm, problem_options(), kBlocks, kSeed);
  ExactHypergradientDescent m({comm, *p, 1, red}, o);
  m.initialize(p->initial_upper(3));
  Trajectory r;
  for (std::int64_t t = 1; t <= steps; ++t) {
    m.step(t);
    r.values.push_back(m.last_value());
  }
  r.x = m.model();
  r.grad_norm_sq = m.last_grad_norm_sq();
  return r;
}

}  // namespace

TEST(ExactHypergradientDescent, ReachesAStationaryPointOfF) {
  auto comm = Communicator::world();
  auto p = test::multitask_on(comm, problem_options(), kBlocks, kSeed);
  ExactHypergradientDescent m({comm, *p, 1, Reduction::kOrdered}, method_options(1.0));
  EXPECT_EQ(m.name(), "exact-hypergrad");
  m.initialize(p->initial_upper(3));
  std::int64_t t = 0;
  while (t < 500 && !(m.last_grad_norm_sq() < 1e-10)) m.step(++t);
  EXPECT_LT(m.last_grad_norm_sq(), 1e-10) << "after " << t << " steps";
  EXPECT_LT(t, 200) << "η = 1 reaches ‖∇F‖² < 1e-10 in about 60 steps on this problem";
  // At the final x, independently of the method's state.
  Vector g;
  const double F = m.evaluate(&g);
  EXPECT_LT(g.squaredNorm(), 1e-10);
  double closed = 0;
  const Placement& pl = p->placement();
  for (Index i = pl.local_first(); i < pl.end(pl.rank()); ++i)
    closed += p->upper_at_solution(i, m.model());
  closed = comm.allreduce_sum(closed) / kBlocks;
  EXPECT_NEAR(F, closed, 1e-12 * F);
  // The method's warm starts are the lower solutions of the last iterate's x (within the step).
  EXPECT_EQ(m.local_lower().size(), static_cast<std::size_t>(pl.local_count()));
}

TEST(ExactHypergradientDescent, FDecreasesMonotonicallyForASmallStep) {
  auto comm = Communicator::world();
  const Trajectory r = run(comm, 120, method_options(0.5));
  ASSERT_EQ(r.values.size(), 120u);
  for (std::size_t t = 1; t < r.values.size(); ++t) {
    EXPECT_LE(r.values[t], r.values[t - 1]) << "step " << t + 1;
  }
  EXPECT_LT(r.values.back(), 0.5 * r.values.front());
}

TEST(ExactHypergradientDescent, SameModelAtAnyRankCount) {
  auto world = Communicator::world();
  auto self = Communicator::self();
  const Trajectory w = run(world, 25, method_options(1.0), Reduction::kOrdered);
  const Trajectory s = run(self, 25, method_options(1.0), Reduction::kOrdered);
  EXPECT_EQ((w.x - s.x).norm(), 0.0) << "ordered reduction: bitwise at any rank count";
  EXPECT_EQ(w.values, s.values);
  const Trajectory wa = run(world, 25, method_options(1.0), Reduction::kAllreduce);
  EXPECT_LT(test::rel_err(wa.x, s.x), 1e-12);
  // The CG path follows the Cholesky path.
  ExactHypergradOptions cg = method_options(1.0);
  cg.solve.solver = LinearSolver::kCg;
  const Trajectory c = run(world, 25, cg);
  EXPECT_LT(test::rel_err(c.x, w.x), 1e-9);
}

TEST(ExactHypergradientDescent, CheckpointAndContinueEqualsUninterrupted) {
  auto world = Communicator::world();
  auto self = Communicator::self();
  std::string path = "test_bilevel_exact.ckpt.h5";
  world.broadcast(path);
  const ExactHypergradOptions o = method_options(1.0);
  const Trajectory full = run(world, 20, o);

  auto p = test::multitask_on(world, problem_options(), kBlocks, kSeed);
  ExactHypergradientDescent first({world, *p, 1, Reduction::kOrdered}, o);
  const Vector x0 = p->initial_upper(3);
  first.initialize(x0);
  for (std::int64_t t = 1; t <= 10; ++t) first.step(t);
  StateArchive mine;
  first.save(mine);
  mine.save(world, path);
  const std::uint64_t evals_first = world.allreduce_sum(first.local_grad_evals());
  for (std::int64_t t = 11; t <= 20; ++t) first.step(t);
  EXPECT_EQ(first.model(), full.x) << "the run that saved continues unchanged";
  const std::uint64_t evals_full = world.allreduce_sum(first.local_grad_evals());

  // In memory, on the same ranks.
  {
    auto q = test::multitask_on(world, problem_options(), kBlocks, kSeed);
    ExactHypergradientDescent again({world, *q, 1, Reduction::kOrdered}, o);
    again.initialize(x0);
    again.load(mine);
    for (std::int64_t t = 11; t <= 20; ++t) again.step(t);
    EXPECT_EQ(again.model(), full.x);
    EXPECT_EQ(world.allreduce_sum(again.local_grad_evals()), evals_full);
  }
  // From the file, with every block on this rank alone (another rank count).
  {
    const StateArchive file = StateArchive::load(path);
    auto q = test::multitask_on(self, problem_options(), kBlocks, kSeed);
    ExactHypergradientDescent again({self, *q, 1, Reduction::kOrdered}, o);
    again.initialize(x0);
    again.load(file);
    EXPECT_EQ(again.local_grad_evals(), evals_first);
    for (std::int64_t t = 11; t <= 20; ++t) again.step(t);
    EXPECT_EQ(again.model(), full.x) << "resumed at another rank count, bit for bit";
    EXPECT_EQ(again.local_grad_evals(), evals_full);
  }
  world.barrier();
  if (world.is_root()) std::filesystem::remove(path);
}

TEST(ExactHypergradientDescent, MetricsDoNotChangeTheTrajectory) {
  auto comm = Communicator::world();
  auto p = test::multitask_on(comm, problem_options(), kBlocks, kSeed);
  ExactHypergradientDescent m({comm, *p, 1, Reduction::kOrdered}, method_options(1.0));
  m.initialize(p->initial_upper(3));
  MetricRow row;
  for (std::int64_t t = 1; t <= 15; ++t) {
    m.extra_metrics(row);
    const double F = row.get("upper_value"), g2 = row.get("hypergrad_norm_sq");
    m.step(t);
    // The step computes at the same x from the same warm starts: the same bits.
    EXPECT_EQ(m.last_value(), F);
    EXPECT_EQ(m.last_grad_norm_sq(), g2);
  }
  EXPECT_EQ(m.model(), run(comm, 15, method_options(1.0)).x);
  EXPECT_LT(row.get("lower_residual"), 1e-11);
  EXPECT_GT(row.get("hessian_evals"), 0.0);
  EXPECT_GT(row.get("jvp_evals"), 0.0);
  EXPECT_TRUE(row.has("hvp_evals"));
}

// Logical traffic of a step: every block sends its value and hypergradient (1 + dim(x) doubles)
// and receives x (dim(x) doubles); metrics add none.
TEST(ExactHypergradientDescent, CountsEveryBlocksTrafficExactly) {
  auto comm = Communicator::world();
  auto p = test::multitask_on(comm, problem_options(), kBlocks, kSeed);
  ExactHypergradientDescent m({comm, *p, 1, Reduction::kOrdered}, method_options(1.0));
  m.initialize(p->initial_upper(3));
  const auto before = comm.traffic().local_total();
  MetricRow row;
  constexpr std::int64_t kSteps = 3;
  for (std::int64_t t = 1; t <= kSteps; ++t) {
    m.step(t);
    m.extra_metrics(row);
  }
  const auto after = comm.traffic().local_total();
  const std::uint64_t up = comm.allreduce_sum(after.bytes_up - before.bytes_up);
  const std::uint64_t down = comm.allreduce_sum(after.bytes_down - before.bytes_down);
  const std::uint64_t d = static_cast<std::uint64_t>(p->upper_dim());
  EXPECT_EQ(up, kSteps * kBlocks * (1 + d) * sizeof(double));
  EXPECT_EQ(down, kSteps * kBlocks * d * sizeof(double));
}

TEST(ExactHypergradientDescent, ValidationNamesTheKeys) {
  auto comm = Communicator::world();
  auto p = test::multitask_on(comm, problem_options(), kBlocks, kSeed);
  auto make = [&](BilevelProblem& q, ExactHypergradOptions o) {
    return [&q, o, &comm] { ExactHypergradientDescent m({comm, q, 1, Reduction::kOrdered}, o); };
  };
  test::expect_config_error(make(*p, method_options(0.0)), "lr");
  test::expect_config_error(make(*p, method_options(-1.0)), "lr");
  ExactHypergradOptions o = method_options(1.0);
  o.solve.cg_tol = 2;
  test::expect_config_error(make(*p, o), "bilevel-cg-tol");
  o = method_options(1.0);
  o.solve.cg_max_iter = 0;
  test::expect_config_error(make(*p, o), "bilevel-cg-max-iter");
  o = method_options(1.0);
  o.solve.solver = LinearSolver::kCholesky;
  test::HvpOnlyMultitask hvp(problem_options(), kBlocks, kSeed, p->placement());
  test::expect_config_error(make(hvp, o), "bilevel-solver");
}
