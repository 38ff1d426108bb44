// The bilevel problem layer on `multitask`: every oracle against central finite differences, the
// closed-form lower solution, the exact hypergradient against finite differences of F(x), the
// Cholesky and CG paths against each other, the registry (built-in, user problem, unknown names)
// and the keys validate() names. Each rank checks the blocks it holds.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "distopt/bilevel/bilevel_problem.hpp"
#include "distopt/bilevel/exact_hypergradient.hpp"
#include "distopt/bilevel/multitask.hpp"
#include "distopt/bilevel/problem_registry.hpp"
#include "distopt/comm/communicator.hpp"
#include "distopt/core/random.hpp"
#include "test_bilevel_common.hpp"

using namespace distopt;

namespace {

constexpr Index kBlocks = 4;
constexpr double kFdStep = 1e-5;
// Central differences of these polynomials (degree ≤ 4) with h = 1e-5: truncation ~h² ≈ 1e-10,
// rounding ~ε/h ≈ 1e-11, relative to derivatives of order 1.
constexpr double kFdTol = 1e-6;

Vector random_vector(Index n, std::uint64_t key) {
  RandomStream s(7, key, 0, Purpose::kUser);
  Vector v(n);
  for (Index j = 0; j < n; ++j) v[j] = s.normal();
  return v;
}

/// F(x) = (1/m) Σ_i f_i(x, y_i*(x)) from the closed-form lower solutions (collective).
double closed_form_F(Communicator& comm, MultitaskProblem& p, const Vector& x) {
  double s = 0;
  const Placement& pl = p.placement();
  for (Index i = pl.local_first(); i < pl.end(pl.rank()); ++i) s += p.upper_at_solution(i, x);
  return comm.allreduce_sum(s) / static_cast<double>(p.blocks());
}

}  // namespace

TEST(Multitask, EveryDerivativeMatchesFiniteDifferences) {
  auto comm = Communicator::world();
  auto p = test::multitask_on(comm, test::small_multitask(), kBlocks, 11);
  const Index dy = p->lower_dim();
  const Vector x = p->initial_upper(3);
  const std::vector<Index> rows = {0, 3, 3, 7, 11, 19};  // a batch with a repeated row
  const SampleBatch batches[] = {SampleBatch::all(), SampleBatch(std::span<const Index>(rows))};
  const Placement& pl = p->placement();
  for (Index i = pl.local_first(); i < pl.end(pl.rank()); ++i) {
    const Vector y = random_vector(dy, static_cast<std::uint64_t>(i));
    const Vector v = random_vector(dy, 100 + static_cast<std::uint64_t>(i));
    for (const SampleBatch& b : batches) {
      // Every oracle against finite differences (test_bilevel_common.hpp), then the Hessian.
      test::expect_oracles_match_fd(*p, i, x, y, v, b, b, kFdStep, kFdTol);
      auto grad_y = [&](const Vector& u) { return test::grad_y_at(*p, i, x, u, b); };
      Vector hv;
      // Full Hessian: columns against finite differences of ∇_y g and against HVPs.
      Matrix H;
      p->lower_hessian(i, x, y, b, H);
      ASSERT_EQ(H.rows(), dy);
      ASSERT_EQ(H.cols(), dy);
      for (Index c = 0; c < dy; ++c) {
        const Vector e = Vector::Unit(dy, c);
        EXPECT_LT(test::rel_err(H.col(c), test::fd_directional(grad_y, y, e, kFdStep)), kFdTol)
            << "Hessian column " << c << ", block " << i;
        p->lower_hvp(i, x, y, b, e, hv);
        EXPECT_LT(test::rel_err(H.col(c), hv), 1e-13);
      }
    }
  }
}

TEST(Multitask, BatchMeanIsTheMeanOfRowTerms) {
  auto comm = Communicator::world();
  auto p = test::multitask_on(comm, test::small_multitask(), kBlocks, 11);
  const Vector x = p->initial_upper(3);
  const Vector y = random_vector(p->lower_dim(), 5);
  const Index i = p->placement().local_first();
  if (p->placement().local_count() == 0) return;
  // All rows as an explicit batch equals SampleBatch::all().
  std::vector<Index> every(static_cast<std::size_t>(p->lower_rows(i)));
  for (Index r = 0; r < p->lower_rows(i); ++r) every[static_cast<std::size_t>(r)] = r;
  Vector g1, g2;
  const double a = p->lower(i, x, y, SampleBatch::all(), nullptr, &g1);
  const double b = p->lower(i, x, y, SampleBatch(std::span<const Index>(every)), nullptr, &g2);
  EXPECT_NEAR(a, b, 1e-13 * std::abs(a));
  EXPECT_LT(test::rel_err(g1, g2), 1e-13);
  // The mean of single-row values plus the regulariser once.
  const double lam = p->options().lower_reg;
  double mean = 0;
  for (Index r = 0; r < p->lower_rows(i); ++r) {
    const std::vector<Index> one = {r};
    mean += p->lower(i, x, y, SampleBatch(std::span<const Index>(one)), nullptr, nullptr) -
            0.5 * lam * y.squaredNorm();
  }
  mean /= static_cast<double>(p->lower_rows(i));
  EXPECT_NEAR(a, mean + 0.5 * lam * y.squaredNorm(), 1e-12 * std::abs(a));
}

TEST(Multitask, ClosedFormLowerSolutionIsStationary) {
  auto comm = Communicator::world();
  auto p = test::multitask_on(comm, test::small_multitask(), kBlocks, 11);
  const Vector x = p->initial_upper(3);
  const Placement& pl = p->placement();
  for (Index i = pl.local_first(); i < pl.end(pl.rank()); ++i) {
    const Vector ys = p->lower_solution(i, x);
    Vector gy;
    p->lower(i, x, ys, SampleBatch::all(), nullptr, &gy);
    EXPECT_LT(gy.norm(), 1e-13) << "block " << i;
    // The Newton solve from zero reaches the same point.
    Vector y = Vector::Zero(p->lower_dim());
    HypergradientSolveOptions o;
    solve_lower(*p, i, x, y, o);
    EXPECT_LT(test::rel_err(y, ys), 1e-12);
  }
}

TEST(ExactHypergradient, MatchesFiniteDifferencesOfF) {
  auto comm = Communicator::world();
  auto p = test::multitask_on(comm, test::small_multitask(), kBlocks, 11);
  const Vector x = p->initial_upper(3);
  std::vector<Vector> ys;
  Vector g;
  HypergradientSolveOptions o;
  const double F = exact_hypergradient(comm, Reduction::kOrdered, *p, x, ys, &g, o);
  EXPECT_NEAR(F, closed_form_F(comm, *p, x), 1e-13 * F);
  const Vector fd =
      test::fd_gradient([&](const Vector& u) { return closed_form_F(comm, *p, u); }, x, kFdStep);
  EXPECT_LT(test::rel_err(g, fd), kFdTol);
  EXPECT_GT(g.norm(), 1e-3) << "a nontrivial check: the initial point is not stationary";
}

TEST(ExactHypergradient, CholeskyAndCgAgree) {
  auto comm = Communicator::world();
  auto p = test::multitask_on(comm, test::small_multitask(), kBlocks, 11);
  const Vector x = p->initial_upper(3);
  HypergradientSolveOptions chol, cg;
  chol.solver = LinearSolver::kCholesky;
  cg.solver = LinearSolver::kCg;
  std::vector<Vector> y1, y2;
  Vector g1, g2;
  HypergradientStats s1, s2;
  const double f1 = exact_hypergradient(comm, Reduction::kOrdered, *p, x, y1, &g1, chol, &s1);
  const double f2 = exact_hypergradient(comm, Reduction::kOrdered, *p, x, y2, &g2, cg, &s2);
  EXPECT_NEAR(f1, f2, 1e-13 * f1);
  EXPECT_LT(test::rel_err(g2, g1), 1e-10);
  EXPECT_TRUE(s1.converged);
  EXPECT_TRUE(s2.converged);
  if (p->placement().local_count() > 0) {
    EXPECT_GT(s1.counts.hessians, 0u);
    EXPECT_EQ(s1.counts.hvps, 0u);
    EXPECT_EQ(s2.counts.hessians, 0u);
    EXPECT_GT(s2.counts.hvps, 0u);
    EXPECT_LE(s2.linear_residual, cg.cg_tol);
  }
  // The same through a user-registered problem without the lower Hessian (auto picks CG).
  test::register_hvp_only();
  BilevelProblemOptions po;
  po.problem = "test-multitask-hvp";
  po.multitask = test::small_multitask();
  auto q = make_bilevel_problem(po, kBlocks, 11, Placement(kBlocks, comm.size(), comm.rank()));
  EXPECT_FALSE(q->has_lower_hessian());
  std::vector<Vector> y3;
  Vector g3;
  HypergradientSolveOptions autoo;
  exact_hypergradient(comm, Reduction::kOrdered, *q, x, y3, &g3, autoo);
  EXPECT_LT(test::rel_err(g3, g1), 1e-10);
  test::expect_config_error(
      [&] { exact_hypergradient(comm, Reduction::kOrdered, *q, x, y3, &g3, chol); },
      "bilevel-solver");
}

TEST(ExactHypergradient, ConjugateGradientSolvesSpdSystems) {
  Matrix A = Matrix::Random(6, 6);
  A = A.transpose() * A + 0.1 * Matrix::Identity(6, 6);
  const Vector b = Vector::LinSpaced(6, -1, 2);
  Vector x;
  const CgResult r =
      conjugate_gradient([&](const Vector& v, Vector& out) { out = A * v; }, b, x, 1e-13, 100);
  EXPECT_TRUE(r.converged);
  EXPECT_LE(r.iterations, 20);
  EXPECT_LT((A * x - b).norm(), 1e-12 * b.norm());
  const CgResult z = conjugate_gradient([&](const Vector& v, Vector& out) { out = A * v; },
                                        Vector::Zero(6), x, 1e-13, 100);
  EXPECT_TRUE(z.converged);
  EXPECT_EQ(x.norm(), 0.0);
}

TEST(BilevelProblemRegistry, BuildsMultitaskAndRejectsUnknownNames) {
  auto comm = Communicator::world();
  const Placement pl(kBlocks, comm.size(), comm.rank());
  BilevelProblemOptions o;
  o.multitask = test::small_multitask();
  auto p = make_bilevel_problem(o, kBlocks, 5, pl);
  EXPECT_EQ(p->name(), "multitask");
  EXPECT_EQ(p->upper_dim(), 15);
  EXPECT_EQ(p->lower_dim(), 3);
  EXPECT_TRUE(p->has_lower_hessian());
  EXPECT_EQ(p->lower_strong_convexity(kBlocks - 1), 0.3);
  o.problem = "nosuch";
  test::expect_config_error([&] { make_bilevel_problem(o, kBlocks, 5, pl); }, "bilevel-problem");
  o.problem = "multitask:3";
  test::expect_config_error([&] { make_bilevel_problem(o, kBlocks, 5, pl); }, "bilevel-problem");
  o.problem = "";
  test::expect_config_error([&] { make_bilevel_problem(o, kBlocks, 5, pl); }, "bilevel-problem");
  try {
    o.problem = "nosuch";
    make_bilevel_problem(o, kBlocks, 5, pl);
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("known: multitask"), std::string::npos) << e.what();
  }
}

TEST(BilevelProblem, DataDoNotDependOnThePlacement) {
  auto world = Communicator::world();
  auto self = Communicator::self();
  auto pw = test::multitask_on(world, test::small_multitask(), kBlocks, 21);
  auto ps = test::multitask_on(self, test::small_multitask(), kBlocks, 21);
  const Vector x = pw->initial_upper(4);
  EXPECT_EQ(x, ps->initial_upper(4));
  const Vector y = random_vector(3, 1);
  const Placement& pl = pw->placement();
  for (Index i = pl.local_first(); i < pl.end(pl.rank()); ++i) {
    Vector a, b;
    EXPECT_EQ(pw->upper(i, x, y, SampleBatch::all(), &a, nullptr),
              ps->upper(i, x, y, SampleBatch::all(), &b, nullptr));
    EXPECT_EQ(a, b);
  }
  // A block this rank does not hold is an error.
  for (Index i = 0; i < kBlocks; ++i) {
    if (!pl.is_local(i)) {
      EXPECT_THROW(pw->upper(i, x, y, SampleBatch::all(), nullptr, nullptr), Error);
    }
  }
}

/// A user problem whose lower level is not strongly convex.
class FlatLower : public test::HvpOnlyMultitask {
 public:
  using HvpOnlyMultitask::HvpOnlyMultitask;
  double lower_strong_convexity(Index block) const override { return block == 2 ? 0.0 : 1.0; }
};

TEST(BilevelProblem, ValidationNamesTheKeys) {
  using test::expect_config_error;
  const Placement pl(kBlocks, 1, 0);
  auto with = [&](auto change) {
    MultitaskOptions o = test::small_multitask();
    change(o);
    return [o] { o.validate(); };
  };
  expect_config_error(with([](MultitaskOptions& o) { o.features = 0; }), "multitask-features");
  expect_config_error(with([](MultitaskOptions& o) { o.rank = 0; }), "multitask-rank");
  expect_config_error(with([](MultitaskOptions& o) { o.train_rows = 0; }), "multitask-train-rows");
  expect_config_error(with([](MultitaskOptions& o) { o.val_rows = 0; }), "multitask-val-rows");
  expect_config_error(with([](MultitaskOptions& o) { o.lower_reg = 0; }), "bilevel-lower-reg");
  expect_config_error(with([](MultitaskOptions& o) { o.upper_reg = -1; }), "bilevel-upper-reg");
  expect_config_error(with([](MultitaskOptions& o) { o.noise = -0.1; }), "multitask-noise");
  // Through the registry, the same keys.
  BilevelProblemOptions po;
  po.multitask.lower_reg = -1;
  expect_config_error([&] { make_bilevel_problem(po, kBlocks, 1, pl); }, "bilevel-lower-reg");
  // A lower problem that is not strongly convex.
  FlatLower flat(test::small_multitask(), kBlocks, 1, pl);
  try {
    validate_bilevel_problem(flat);
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key(), "bilevel-problem");
    EXPECT_NE(std::string(e.what()).find("block 2"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("not strongly convex"), std::string::npos) << e.what();
  }
  // The solve options.
  auto solve = [](auto change) {
    HypergradientSolveOptions o;
    change(o);
    return [o] { o.validate(); };
  };
  expect_config_error(solve([](HypergradientSolveOptions& o) { o.cg_tol = 0; }), "bilevel-cg-tol");
  expect_config_error(solve([](HypergradientSolveOptions& o) { o.cg_max_iter = 0; }),
                      "bilevel-cg-max-iter");
  expect_config_error(solve([](HypergradientSolveOptions& o) { o.lower_tol = 0; }),
                      "bilevel-lower-tol");
  expect_config_error(solve([](HypergradientSolveOptions& o) { o.lower_max_iter = 0; }),
                      "bilevel-lower-max-iter");
  expect_config_error([] { linear_solver_from_string("lu"); }, "bilevel-solver");
  EXPECT_EQ(linear_solver_from_string(to_string(LinearSolver::kCg)), LinearSolver::kCg);
}
