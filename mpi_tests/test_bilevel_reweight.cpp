// The `reweight` problem (bilevel/reweight.hpp) on a small slice of Fashion-MNIST: every oracle
// against central finite differences, the sparse oracles against the dense ones, the exact
// hypergradient against finite differences of F(x), the independence of the data from the rank
// count, the metrics, and the keys the option and data errors name. Each rank checks the blocks it
// holds; the Fashion-MNIST problems are built once per process (reading the IDX files dominates).
#include <gtest/gtest.h>

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "distopt/bilevel/bilevel_problem.hpp"
#include "distopt/bilevel/exact_hypergradient.hpp"
#include "distopt/bilevel/problem_registry.hpp"
#include "distopt/bilevel/reweight.hpp"
#include "distopt/comm/communicator.hpp"
#include "distopt/core/random.hpp"
#include "test_bilevel_common.hpp"

using namespace distopt;

namespace {

constexpr Index kBlocks = 5;
constexpr std::uint64_t kSeed = 13;
constexpr double kFdStep = 1e-5;
// Central differences with h = 1e-5 of smooth functions whose derivatives are of order 1:
// truncation ~h² ≈ 1e-10, rounding ~ε/h ≈ 1e-11 (as in test_bilevel_problem.cpp).
constexpr double kFdTol = 1e-6;

/// 60 training and 40 validation rows of T-shirt/top vs Shirt, 7×7 pooling (16 features + bias).
ReweightOptions small_reweight() {
  ReweightOptions o;
  o.train_rows = 60;
  o.val_rows = 40;
  o.pool = 7;
  o.noise = 0.25;
  o.lower_reg = 0.05;
  return o;
}

/// The small problem over every rank of the world (`single` false) or all on this rank, built once.
ReweightProblem& problem(bool single) {
  static std::unique_ptr<ReweightProblem> world, one;
  auto& p = single ? one : world;
  if (!p) {
    auto comm = Communicator::world();
    const Placement pl =
        single ? Placement(kBlocks, 1, 0) : Placement(kBlocks, comm.size(), comm.rank());
    p = std::make_unique<ReweightProblem>(small_reweight(), "fmnist", kBlocks, kSeed, pl);
  }
  return *p;
}

Vector random_vector(Index n, std::uint64_t key, double scale = 1.0) {
  RandomStream s(7, key, 0, Purpose::kUser);
  Vector v(n);
  for (Index j = 0; j < n; ++j) v[j] = scale * s.normal();
  return v;
}

/// A batch of training rows with a repeated row (row 3 three times) and the last row, out of
/// order; kUpperBatch the same for the validation rows.
const std::vector<Index> kBatch = {11, 3, 0, 3, 59, 7, 3, 42};
const std::vector<Index> kUpperBatch = {11, 3, 0, 3, 39, 7, 3, 22};

std::vector<Index> distinct_sorted(std::vector<Index> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

Vector scattered(const IndexedVector& s, Index n) {
  Vector out = Vector::Zero(n);
  for (Index k = 0; k < s.size(); ++k) {
    out[s.index[static_cast<std::size_t>(k)]] = s.value[static_cast<std::size_t>(k)];
  }
  return out;
}

}  // namespace

TEST(Reweight, ShapesRowsAndTemperatures) {
  ReweightProblem& p = problem(false);
  EXPECT_EQ(p.name(), "reweight");
  EXPECT_EQ(p.upper_dim(), 60);
  EXPECT_EQ(p.lower_dim(), 17);  // (28/7)² pooled features + bias
  EXPECT_EQ(p.upper_rows(0), 40);
  EXPECT_EQ(p.lower_rows(kBlocks - 1), 60);
  EXPECT_EQ(p.lower_strong_convexity(2), 0.05);
  EXPECT_TRUE(p.has_lower_hessian());
  EXPECT_TRUE(p.upper_independent_of_x());
  EXPECT_TRUE(p.sparse_cross());
  EXPECT_GT(p.test_rows(), 0);
  EXPECT_EQ(p.initial_upper(3), Vector::Zero(60));
  // τ_0 = 0.5, τ_{m−1} = 2, geometric in between.
  EXPECT_EQ(p.temperature(0), 0.5);
  EXPECT_NEAR(p.temperature(kBlocks - 1), 2.0, 1e-15);
  for (Index i = 1; i + 1 < kBlocks; ++i) {
    EXPECT_NEAR(p.temperature(i) * p.temperature(i), p.temperature(i - 1) * p.temperature(i + 1),
                1e-14);
  }
  // Some labels flipped, not all (noise 0.25 of 60 rows).
  Index flips = 0;
  for (Index j = 0; j < p.upper_dim(); ++j) flips += p.flipped(j);
  EXPECT_GT(flips, 0);
  EXPECT_LT(flips, p.upper_dim());
}

TEST(Reweight, EveryDerivativeMatchesFiniteDifferences) {
  ReweightProblem& p = problem(false);
  const Index dx = p.upper_dim(), dy = p.lower_dim();
  const Vector x = random_vector(dx, 1000, 0.7);
  const SampleBatch batches[] = {SampleBatch::all(), SampleBatch(std::span<const Index>(kBatch))};
  const SampleBatch upper_batches[] = {SampleBatch::all(),
                                       SampleBatch(std::span<const Index>(kUpperBatch))};
  const Placement& pl = p.placement();
  for (Index i = pl.local_first(); i < pl.end(pl.rank()); ++i) {
    const Vector y = random_vector(dy, static_cast<std::uint64_t>(i), 2.0);
    const Vector v = random_vector(dy, 100 + static_cast<std::uint64_t>(i));
    for (int k = 0; k < 2; ++k) {
      const SampleBatch& b = batches[k];
      const SampleBatch& ub = upper_batches[k];
      // Every oracle against finite differences; then what is particular to reweight.
      const Vector cv = test::expect_oracles_match_fd(p, i, x, y, v, b, ub, kFdStep, kFdTol);
      Vector gx, gy;
      p.upper(i, x, y, ub, &gx, &gy);
      EXPECT_EQ(gx, Vector::Zero(dx)) << "f ignores x";
      auto grad_y = [&](const Vector& u) { return test::grad_y_at(p, i, x, u, b); };
      Vector hv;
      // The Hessian: symmetric, positive definite (the true Hessian, not the reference code's),
      // columns against finite differences and HVPs.
      Matrix H;
      p.lower_hessian(i, x, y, b, H);
      ASSERT_EQ(H.rows(), dy);
      ASSERT_EQ(H.cols(), dy);
      EXPECT_EQ(H, H.transpose());
      EXPECT_GE(Eigen::SelfAdjointEigenSolver<Matrix>(H).eigenvalues().minCoeff(),
                0.05 * (1 - 1e-12));
      for (Index c = 0; c < dy; ++c) {
        const Vector e = Vector::Unit(dy, c);
        EXPECT_LT(test::rel_err(H.col(c), test::fd_directional(grad_y, y, e, kFdStep)), kFdTol)
            << "Hessian column " << c << ", block " << i;
        p.lower_hvp(i, x, y, b, e, hv);
        EXPECT_LT(test::rel_err(H.col(c), hv), 1e-13);
      }
    }
  }
}

TEST(Reweight, SparseOraclesAreTheDenseOnesOnTheBatchRows) {
  ReweightProblem& p = problem(false);
  const Index dx = p.upper_dim(), dy = p.lower_dim();
  const Vector x = random_vector(dx, 2000, 0.7);
  std::vector<Index> every(static_cast<std::size_t>(dx));
  for (Index j = 0; j < dx; ++j) every[static_cast<std::size_t>(j)] = j;
  const std::vector<Index> one = {17};
  const SampleBatch batches[] = {SampleBatch::all(), SampleBatch(std::span<const Index>(kBatch)),
                                 SampleBatch(std::span<const Index>(one))};
  const std::vector<Index> structure[] = {every, distinct_sorted(kBatch), one};
  const Placement& pl = p.placement();
  for (Index i = pl.local_first(); i < pl.end(pl.rank()); ++i) {
    const Vector y = random_vector(dy, 10 + static_cast<std::uint64_t>(i), 2.0);
    for (int k = 0; k < 3; ++k) {
      const SampleBatch& b = batches[k];
      Vector gx, gy, sgy;
      const double g = p.lower(i, x, y, b, &gx, &gy);
      IndexedVector sx;
      EXPECT_EQ(p.lower_sparse(i, x, y, b, &sx, &sgy), g);
      EXPECT_EQ(sx.index, structure[k]);
      EXPECT_EQ(scattered(sx, dx), gx);
      EXPECT_EQ(sgy, gy);
      EXPECT_EQ(p.lower_sparse(i, x, y, b, nullptr, nullptr), g);
      // The mixed product: the same structural index set for any v (and y).
      for (std::uint64_t key : {1u, 2u}) {
        const Vector v = random_vector(dy, 300 + key);
        Vector cv;
        p.lower_cross(i, x, y, b, v, cv);
        IndexedVector sc;
        p.lower_cross_sparse(i, x, key == 1 ? y : Vector::Zero(dy), b, v, sc);
        EXPECT_EQ(sc.index, structure[k]);
        if (key == 1) {
          EXPECT_EQ(scattered(sc, dx), cv);
        }
      }
    }
    // A repeated row is one entry carrying every copy's share: row 3 is 3 of the 8 samples.
    IndexedVector sx, s3;
    p.lower_sparse(i, x, y, SampleBatch(std::span<const Index>(kBatch)), &sx, nullptr);
    const std::vector<Index> three = {3};
    p.lower_sparse(i, x, y, SampleBatch(std::span<const Index>(three)), &s3, nullptr);
    const auto pos = std::find(sx.index.begin(), sx.index.end(), 3) - sx.index.begin();
    EXPECT_NEAR(sx.value[static_cast<std::size_t>(pos)], s3.value[0] * 3.0 / 8.0,
                1e-15 * std::abs(s3.value[0]));
  }
}

TEST(Reweight, BatchMeanIsTheMeanOfRowTerms) {
  ReweightProblem& p = problem(false);
  if (p.placement().local_count() == 0) return;
  const Index i = p.placement().local_first();
  const Vector x = random_vector(p.upper_dim(), 3000, 0.7);
  const Vector y = random_vector(p.lower_dim(), 5);
  std::vector<Index> every(static_cast<std::size_t>(p.lower_rows(i)));
  for (Index r = 0; r < p.lower_rows(i); ++r) every[static_cast<std::size_t>(r)] = r;
  Vector g1, g2;
  const double a = p.lower(i, x, y, SampleBatch::all(), nullptr, &g1);
  const double b = p.lower(i, x, y, SampleBatch(std::span<const Index>(every)), nullptr, &g2);
  EXPECT_NEAR(a, b, 1e-14 * std::abs(a));
  EXPECT_LT(test::rel_err(g1, g2), 1e-14);
  const double lam = p.options().lower_reg;
  double mean = 0;
  for (Index r = 0; r < p.lower_rows(i); ++r) {
    const std::vector<Index> one = {r};
    mean += p.lower(i, x, y, SampleBatch(std::span<const Index>(one)), nullptr, nullptr) -
            0.5 * lam * y.squaredNorm();
  }
  mean /= static_cast<double>(p.lower_rows(i));
  EXPECT_NEAR(a, mean + 0.5 * lam * y.squaredNorm(), 1e-12 * std::abs(a));
}

TEST(Reweight, ExactHypergradientMatchesFiniteDifferencesOfF) {
  auto comm = Communicator::world();
  ReweightProblem& p = problem(false);
  const Vector x = random_vector(p.upper_dim(), 4000, 0.7);
  HypergradientSolveOptions o;
  o.lower_tol = 1e-13;
  std::vector<Vector> ys;
  Vector g;
  HypergradientStats stats;
  exact_hypergradient(comm, Reduction::kOrdered, p, x, ys, &g, o, &stats);
  EXPECT_TRUE(stats.converged);
  auto F = [&](const Vector& u) {
    std::vector<Vector> warm = ys;
    return exact_hypergradient(comm, Reduction::kOrdered, p, u, warm, nullptr, o);
  };
  // h = 1e-4: the lower solves' tolerance enters F at ~1e-13/μ, divided by 2h.
  const double h = 1e-4;
  for (const Index j : {Index{0}, Index{3}, Index{17}, Index{59}}) {
    Vector up = x, um = x;
    up[j] += h;
    um[j] -= h;
    const double fd = (F(up) - F(um)) / (2 * h);
    EXPECT_NEAR(g[j], fd, 1e-6 * g.lpNorm<Eigen::Infinity>()) << "coordinate " << j;
  }
  EXPECT_GT(g.norm(), 1e-4) << "a nontrivial check: x is not stationary";
}

TEST(Reweight, DataDoNotDependOnTheRankCount) {
  auto comm = Communicator::world();
  auto self = Communicator::self();
  ReweightProblem& pw = problem(false);
  ReweightProblem& ps = problem(true);
  const Vector x = random_vector(pw.upper_dim(), 5000, 0.7);
  HypergradientSolveOptions o;
  // f_i(x, y_i*(x)) and a checksum of y_i*(x) per block: from this rank's blocks, summed over the
  // ranks, against every block on one rank.
  Vector mine = Vector::Zero(2 * kBlocks), all(2 * kBlocks);
  const Placement& pl = pw.placement();
  for (Index i = 0; i < kBlocks; ++i) {
    Vector y = Vector::Zero(pw.lower_dim());
    solve_lower(ps, i, x, y, o);
    all[2 * i] = ps.upper(i, x, y, SampleBatch::all(), nullptr, nullptr);
    all[2 * i + 1] = y.sum() + y.squaredNorm();
    if (pl.is_local(i)) {
      Vector yw = Vector::Zero(pw.lower_dim());
      solve_lower(pw, i, x, yw, o);
      EXPECT_EQ(yw, y) << "block " << i;
      mine[2 * i] = pw.upper(i, x, yw, SampleBatch::all(), nullptr, nullptr);
      mine[2 * i + 1] = yw.sum() + yw.squaredNorm();
    }
  }
  comm.allreduce_sum(mine);
  EXPECT_EQ(mine, all);
  // The exact F and ∇F with the ordered reduction: bitwise those of the one-rank placement.
  std::vector<Vector> y1, y2;
  Vector g1, g2;
  const double f1 = exact_hypergradient(comm, Reduction::kOrdered, pw, x, y1, &g1, o);
  const double f2 = exact_hypergradient(self, Reduction::kOrdered, ps, x, y2, &g2, o);
  EXPECT_EQ(f1, f2);
  EXPECT_EQ(g1, g2);
  // A block this rank does not hold is an error.
  for (Index i = 0; i < kBlocks; ++i) {
    if (!pl.is_local(i)) {
      EXPECT_THROW(
          pw.upper(i, x, Vector::Zero(pw.lower_dim()), SampleBatch::all(), nullptr, nullptr),
          Error);
    }
  }
}

TEST(Reweight, LowerMetrics) {
  ReweightProblem& p = problem(false);
  const auto names = p.lower_metric_names();
  ASSERT_EQ(names, (std::vector<std::string>{"test_accuracy", "test_loss", "val_accuracy",
                                             "weight_flipped", "weight_clean"}));
  const Placement& pl = p.placement();
  if (pl.local_count() == 0) return;
  const Index i = pl.local_first();
  const Vector x0 = Vector::Zero(p.upper_dim());
  Vector y = Vector::Zero(p.lower_dim());
  solve_lower(p, i, x0, y, HypergradientSolveOptions{});
  std::vector<double> m;
  p.evaluate_lower(i, x0, y, m);
  ASSERT_EQ(m.size(), names.size());
  for (int k : {0, 2}) {
    EXPECT_GE(m[k], 0.0);
    EXPECT_LE(m[k], 1.0);
  }
  EXPECT_GT(m[1], 0.0);
  EXPECT_EQ(m[3], 0.5);  // σ(0)
  EXPECT_EQ(m[4], 0.5);
  // Weights that down-weight exactly the flipped rows.
  Vector x = x0;
  for (Index j = 0; j < x.size(); ++j) x[j] = p.flipped(j) ? -3.0 : 3.0;
  p.evaluate_lower(i, x, y, m);
  EXPECT_NEAR(m[3], 1.0 / (1.0 + std::exp(3.0)), 1e-15);
  EXPECT_NEAR(m[4], 1.0 / (1.0 + std::exp(-3.0)), 1e-15);
  // The test loss is the mean loss at the block's temperature: at y = 0, log 2.
  p.evaluate_lower(i, x, Vector::Zero(p.lower_dim()), m);
  EXPECT_NEAR(m[1], std::log(2.0), 1e-15);
}

TEST(Reweight, OptionErrorsNameTheirKeys) {
  using test::expect_config_error;
  auto with = [](auto change) {
    ReweightOptions o = small_reweight();
    change(o);
    return [o] { o.validate(); };
  };
  small_reweight().validate();
  expect_config_error(with([](ReweightOptions& o) { o.classes = {6, 6}; }), "reweight-classes");
  expect_config_error(with([](ReweightOptions& o) { o.classes = {-1, 6}; }), "reweight-classes");
  expect_config_error(with([](ReweightOptions& o) { o.train_rows = 0; }), "reweight-train-rows");
  expect_config_error(with([](ReweightOptions& o) { o.val_rows = 0; }), "reweight-val-rows");
  expect_config_error(with([](ReweightOptions& o) { o.noise = 1.0; }), "reweight-noise");
  expect_config_error(with([](ReweightOptions& o) { o.noise = -0.1; }), "reweight-noise");
  expect_config_error(with([](ReweightOptions& o) { o.pool = 3; }), "reweight-pool");
  expect_config_error(with([](ReweightOptions& o) { o.pool = 0; }), "reweight-pool");
  expect_config_error(with([](ReweightOptions& o) {
                        o.temperatures = {0.0, 1.0};
                      }),
                      "reweight-temperatures");
  expect_config_error(with([](ReweightOptions& o) {
                        o.temperatures = {2.0, 1.0};
                      }),
                      "reweight-temperatures");
  expect_config_error(with([](ReweightOptions& o) {
                        o.temperatures = {-1.0, 1.0};
                      }),
                      "reweight-temperatures");
  expect_config_error(with([](ReweightOptions& o) { o.lower_reg = 0; }), "reweight-lower-reg");
  expect_config_error(with([](ReweightOptions& o) { o.lower_reg = -1; }), "reweight-lower-reg");

  // What needs the data, on small synthetic sources (60 features, 10 classes).
  const Placement pl(kBlocks, 1, 0);
  const std::string mc = "synthetic:fedprox:clients=3";
  auto build = [&](const std::string& data, auto change) {
    ReweightOptions o = small_reweight();
    o.pool = 1;
    change(o);
    return [o, data, &pl] { ReweightProblem(o, data, kBlocks, 1, pl); };
  };
  auto same = [](ReweightOptions&) {};
  build(mc, same)();  // the baseline builds
  expect_config_error(build(mc,
                            [](ReweightOptions& o) {
                              o.classes = {0, 12};
                            }),
                      "reweight-classes");
  expect_config_error(build(mc, [](ReweightOptions& o) { o.pool = 2; }), "reweight-pool");
  expect_config_error(build(mc, [](ReweightOptions& o) { o.train_rows = 1000000; }),
                      "reweight-train-rows");
  expect_config_error(build("synthetic:logistic", same), "bilevel-data");
  expect_config_error(build("synthetic:nosuch", same), "bilevel-data");

  // Through the registry.
  BilevelProblemOptions po;
  po.problem = "reweight";
  po.data = mc;
  po.reweight = small_reweight();
  po.reweight.pool = 1;
  auto q = make_bilevel_problem(po, kBlocks, 1, pl);
  EXPECT_EQ(q->name(), "reweight");
  EXPECT_EQ(q->lower_dim(), 61);
  po.reweight.lower_reg = 0;
  expect_config_error([&] { make_bilevel_problem(po, kBlocks, 1, pl); }, "reweight-lower-reg");
  po.reweight.lower_reg = 0.05;
  po.problem = "reweight:2";
  expect_config_error([&] { make_bilevel_problem(po, kBlocks, 1, pl); }, "bilevel-problem");
}
