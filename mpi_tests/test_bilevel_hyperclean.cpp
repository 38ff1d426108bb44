// The `hyperclean` problem on a small Fashion-MNIST setup (40 training rows over m = 4 blocks, 30
// validation and 50 test rows, 7×7 pooling: 16 features, 17×10 = 170 lower dimensions): every
// oracle against central finite differences on the all-rows batch and on a batch with a
// repeated row, the sparse oracles against the dense ones, the data at any rank count against a
// one-rank placement, the exact hypergradient (CG route) against finite differences of F(x), the
// corruption rate, the metrics, and the keys the errors name. Each rank checks the blocks it
// holds.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <set>
#include <vector>

#include "distopt/bilevel/bilevel_problem.hpp"
#include "distopt/bilevel/exact_hypergradient.hpp"
#include "distopt/bilevel/hyperclean.hpp"
#include "distopt/bilevel/problem_registry.hpp"
#include "distopt/comm/communicator.hpp"
#include "distopt/core/random.hpp"
#include "distopt/run/bilevel_config.hpp"
#include "distopt/run/options.hpp"
#include "test_bilevel_common.hpp"

using namespace distopt;

namespace {

constexpr Index kBlocks = 4;
constexpr std::uint64_t kSeed = 13;
constexpr double kFdStep = 1e-5;
// Central differences of smooth functions (exp, log of sums of exps, σ) whose third derivatives
// are O(1) at the points used (standardised features, ‖W‖ ~ 0.3): truncation ~h² ≈ 1e-10 and
// rounding ~ε/h ≈ 1e-11, against derivatives of order 1e-2..1.
constexpr double kFdTol = 1e-6;

HypercleanOptions small() {
  HypercleanOptions o;
  o.train_rows = 40;
  o.val_rows = 30;
  o.test_rows = 50;
  o.pool = 7;
  o.lower_reg = 0.05;
  o.corruption = 0.5;
  return o;
}

Vector random_vector(Index n, std::uint64_t key, double scale) {
  RandomStream s(7, key, 0, Purpose::kUser);
  Vector v(n);
  for (Index j = 0; j < n; ++j) v[j] = scale * s.normal();
  return v;
}

HypercleanProblem on(Communicator& comm, const HypercleanOptions& o = small()) {
  return HypercleanProblem(o, "fmnist", kBlocks, kSeed,
                           Placement(kBlocks, comm.size(), comm.rank()));
}

/// The small problem over `comm` (world in every test), built once: every build parses the IDX
/// files, which dominates the suite's run time at 4 ranks on 2 cores.
HypercleanProblem& shared(Communicator& comm) {
  static std::unique_ptr<HypercleanProblem> p;
  if (!p) {
    p = std::make_unique<HypercleanProblem>(small(), "fmnist", kBlocks, kSeed,
                                            Placement(kBlocks, comm.size(), comm.rank()));
  }
  return *p;
}

/// The dense vector an IndexedVector stands for.
Vector scatter(const IndexedVector& s, Index n) {
  Vector v = Vector::Zero(n);
  for (Index k = 0; k < s.size(); ++k) v[s.index[k]] = s.value[k];
  return v;
}

}  // namespace

TEST(Hyperclean, ShapesAndShares) {
  auto comm = Communicator::world();
  auto& p = shared(comm);
  EXPECT_EQ(p.name(), "hyperclean");
  EXPECT_EQ(p.features(), 16);
  EXPECT_EQ(p.classes(), 10);
  EXPECT_EQ(p.upper_dim(), 40);
  EXPECT_EQ(p.lower_dim(), 170);
  EXPECT_FALSE(p.has_lower_hessian());
  EXPECT_TRUE(p.upper_independent_of_x());
  EXPECT_TRUE(p.sparse_cross());
  EXPECT_EQ(p.lower_strong_convexity(2), 0.05);
  EXPECT_EQ(p.initial_upper(1), Vector::Zero(40));
  Index total = 0;
  for (Index i = 0; i < kBlocks; ++i) {
    EXPECT_EQ(p.offset(i), total);
    total += p.lower_rows(i);
    EXPECT_EQ(p.upper_rows(i), 30);
  }
  EXPECT_EQ(total, 40);
  // Uneven shares differ by at most one.
  HypercleanOptions o = small();
  o.train_rows = 42;
  auto q = on(comm, o);
  Index lo = q.share(0), hi = q.share(0), sum = 0;
  for (Index i = 0; i < kBlocks; ++i) {
    lo = std::min(lo, q.share(i));
    hi = std::max(hi, q.share(i));
    sum += q.share(i);
  }
  EXPECT_EQ(sum, 42);
  EXPECT_LE(hi - lo, 1);
  // Another source: binary labels become classes 0/1, no pooling.
  HypercleanOptions b = small();
  b.pool = 1;
  b.test_rows = 0;
  HypercleanProblem bin(b, "synthetic:logistic:n=300,dim=5", kBlocks, 3,
                        Placement(kBlocks, comm.size(), comm.rank()));
  EXPECT_EQ(bin.classes(), 2);
  EXPECT_EQ(bin.lower_dim(), 12);
  EXPECT_GT(bin.test_data().rows(), 0);
  EXPECT_TRUE((bin.validation_data().labels().array() >= 0).all());
  EXPECT_EQ(p.validation_data().rows(), 30);
  EXPECT_EQ(p.test_data().rows(), 50);
  for (Index i = p.placement().local_first(); i < p.placement().end(p.placement().rank()); ++i) {
    EXPECT_EQ(p.train_data(i).rows(), p.share(i));
    EXPECT_EQ(p.train_data(i).cols(), 16);
  }
}

TEST(Hyperclean, EveryDerivativeMatchesFiniteDifferences) {
  auto comm = Communicator::world();
  auto& p = shared(comm);
  const Index dx = p.upper_dim(), dy = p.lower_dim();
  const Vector x = random_vector(dx, 1, 1.0);
  const std::vector<Index> rows = {0, 3, 3, 7, 9};  // a batch with a repeated row
  const SampleBatch batches[] = {SampleBatch::all(), SampleBatch(std::span<const Index>(rows))};
  const Placement& pl = p.placement();
  for (Index i = pl.local_first(); i < pl.end(pl.rank()); ++i) {
    const Vector y = random_vector(dy, 10 + static_cast<std::uint64_t>(i), 0.3);
    const Vector v = random_vector(dy, 100 + static_cast<std::uint64_t>(i), 1.0);
    for (const SampleBatch& b : batches) {
      // Every oracle against finite differences; then what is particular to hyperclean.
      const Vector cv = test::expect_oracles_match_fd(p, i, x, y, v, b, b, kFdStep, kFdTol);
      Vector gx, gy;
      p.upper(i, x, y, b, &gx, &gy);
      EXPECT_EQ(gx, Vector::Zero(dx)) << "f ignores x";
      EXPECT_EQ(p.upper(i, x, y, b, nullptr, nullptr),
                p.upper(i, Vector::Zero(dx), y, b, nullptr, nullptr));
      // ∇_x g is zero off the block's rows (of the batch).
      p.lower(i, x, y, b, &gx, &gy);
      for (Index j = 0; j < dx; ++j) {
        if (j < p.offset(i) || j >= p.offset(i) + p.share(i)) {
          EXPECT_EQ(gx[j], 0.0);
        }
      }
      // The sparse oracles: the dense values, on the structural index set.
      std::set<Index> expect_idx;
      if (b.all_rows()) {
        for (Index r = 0; r < p.share(i); ++r) expect_idx.insert(p.offset(i) + r);
      } else {
        for (const Index r : rows) expect_idx.insert(p.offset(i) + r);
      }
      const std::vector<Index> want(expect_idx.begin(), expect_idx.end());
      IndexedVector sc, sg;
      p.lower_cross_sparse(i, x, y, b, v, sc);
      EXPECT_EQ(sc.index, want);
      EXPECT_LT(test::rel_err(scatter(sc, dx), cv), 1e-14);
      Vector gy2;
      const double g1 = p.lower(i, x, y, b, &gx, &gy);
      const double g2 = p.lower_sparse(i, x, y, b, &sg, &gy2);
      EXPECT_EQ(g1, g2);
      EXPECT_EQ(sg.index, want);
      EXPECT_LT(test::rel_err(scatter(sg, dx), gx), 1e-14);
      EXPECT_EQ(gy, gy2);
      // The index set is structural: another point, the same indices.
      p.lower_cross_sparse(i, Vector::Zero(dx), Vector::Zero(dy), b, Vector::Zero(dy), sc);
      EXPECT_EQ(sc.index, want);
    }
  }
}

TEST(Hyperclean, DataDoNotDependOnTheRankCount) {
  auto world = Communicator::world();
  auto& pw = shared(world);
  HypercleanProblem ps(small(), "fmnist", kBlocks, kSeed, Placement(kBlocks, 1, 0));
  const Vector x = random_vector(40, 2, 1.0);
  const Vector y = random_vector(170, 3, 0.3);
  // f_i, g_i of every block, gathered over the ranks in block order, against the one-rank
  // problem; and the validation and test rows every rank holds.
  std::vector<double> mine;
  const Placement& pl = pw.placement();
  for (Index i = pl.local_first(); i < pl.end(pl.rank()); ++i) {
    mine.push_back(pw.upper(i, x, y, SampleBatch::all(), nullptr, nullptr));
    mine.push_back(pw.lower(i, x, y, SampleBatch::all(), nullptr, nullptr));
    EXPECT_EQ(pw.train_data(i).dense(), ps.train_data(i).dense());
    EXPECT_EQ(pw.train_data(i).labels(), ps.train_data(i).labels());
    EXPECT_EQ(pw.clean_labels(i), ps.clean_labels(i));
  }
  const std::vector<double> all = world.allgatherv(std::span<const double>(mine));
  ASSERT_EQ(all.size(), static_cast<std::size_t>(2 * kBlocks));
  for (Index i = 0; i < kBlocks; ++i) {
    EXPECT_EQ(all[static_cast<std::size_t>(2 * i)],
              ps.upper(i, x, y, SampleBatch::all(), nullptr, nullptr));
    EXPECT_EQ(all[static_cast<std::size_t>(2 * i + 1)],
              ps.lower(i, x, y, SampleBatch::all(), nullptr, nullptr));
  }
  EXPECT_EQ(pw.validation_data().dense(), ps.validation_data().dense());
  EXPECT_EQ(pw.test_data().dense(), ps.test_data().dense());
  // A block this rank does not hold is an error.
  for (Index i = 0; i < kBlocks; ++i) {
    if (!pl.is_local(i)) {
      EXPECT_THROW(pw.lower(i, x, y, SampleBatch::all(), nullptr, nullptr), Error);
    }
  }
}

TEST(Hyperclean, ExactHypergradientMatchesFiniteDifferencesOfF) {
  auto comm = Communicator::world();
  auto& p = shared(comm);
  const Vector x = random_vector(40, 4, 1.0);
  HypergradientSolveOptions o;  // auto: CG, no lower Hessian
  o.lower_tol = 1e-12;
  o.cg_tol = 1e-12;
  std::vector<Vector> ys;
  Vector g;
  HypergradientStats st;
  exact_hypergradient(comm, Reduction::kOrdered, p, x, ys, &g, o, &st);
  EXPECT_TRUE(st.converged);
  EXPECT_EQ(st.counts.hessians, 0u);
  ASSERT_EQ(g.size(), 40);
  auto F = [&](const Vector& u) {
    std::vector<Vector> warm = ys;  // warm starts at y*(x): the solves converge in a few steps
    return exact_hypergradient(comm, Reduction::kOrdered, p, u, warm, nullptr, o);
  };
  // A few coordinates, one in every block; F is smooth in x with O(1) curvature, so h = 1e-4
  // keeps the truncation (~h²) and the solve error (1e-12 / h) below 1e-7.
  for (const Index j : {Index{0}, Index{13}, Index{25}, Index{39}}) {
    Vector up = x, um = x;
    up[j] += 1e-4;
    um[j] -= 1e-4;
    const double fd = (F(up) - F(um)) / 2e-4;
    EXPECT_NEAR(g[j], fd, 1e-6 + 1e-5 * std::abs(fd)) << "coordinate " << j;
  }
  EXPECT_GT(g.norm(), 1e-6) << "a nontrivial check";
}

TEST(Hyperclean, CorruptionRateAndMetrics) {
  auto comm = Communicator::world();
  // 8000 rows: each row is changed with probability q = (1 − 1/C) p = 0.45 independently, so the
  // count has standard deviation sqrt(8000 q (1 − q)) ≈ 44.5 (0.56% of the rows); a bound of 5
  // standard deviations (2.8%) fails with probability below 1e-6.
  HypercleanOptions o = small();
  o.train_rows = 8000;
  o.val_rows = 100;
  o.test_rows = 20;
  auto p = on(comm, o);
  const Placement& pl = p.placement();
  double changed = 0, agree = 0;
  for (Index i = pl.local_first(); i < pl.end(pl.rank()); ++i) {
    const auto& c = p.corrupted(i);
    const Dataset& d = p.train_data(i);
    for (Index r = 0; r < d.rows(); ++r) {
      changed += c[static_cast<std::size_t>(r)];
      // The mask says exactly which labels differ from the clean ones.
      agree += (d.labels()[r] != p.clean_labels(i)[r]) == (c[static_cast<std::size_t>(r)] != 0);
    }
  }
  changed = comm.allreduce_sum(changed);
  agree = comm.allreduce_sum(agree);
  EXPECT_EQ(agree, 8000.0);
  const double q = 0.9 * 0.5;
  EXPECT_NEAR(changed / 8000, q, 5 * std::sqrt(q * (1 - q) / 8000));
  // No corruption: nothing changed.
  o.corruption = 0;
  auto clean = on(comm, o);
  for (Index i = pl.local_first(); i < pl.end(pl.rank()); ++i) {
    EXPECT_EQ(clean.train_data(i).labels(), clean.clean_labels(i));
  }
  // The metrics: names, and their values at a point where they are known.
  auto& s = shared(comm);
  EXPECT_EQ(s.lower_metric_names(),
            (std::vector<std::string>{"test_accuracy", "test_loss", "val_accuracy",
                                      "weight_corrupted", "weight_clean"}));
  for (Index i = pl.local_first(); i < pl.end(pl.rank()); ++i) {
    std::vector<double> m;
    // y = 0: uniform predictions, CE = log C, argmax = class 0; x = 0: every weight 1/2.
    s.evaluate_lower(i, Vector::Zero(40), Vector::Zero(170), m);
    ASSERT_EQ(m.size(), 5u);
    double zeros = 0;
    for (Index r = 0; r < 50; ++r) zeros += s.test_data().labels()[r] == 0;
    EXPECT_DOUBLE_EQ(m[0], zeros / 50);
    EXPECT_NEAR(m[1], std::log(10.0), 1e-12);
    const auto& c = s.corrupted(i);
    const bool any_bad = std::count(c.begin(), c.end(), 1) > 0;
    const bool any_good = std::count(c.begin(), c.end(), 0) > 0;
    if (any_bad) {
      EXPECT_DOUBLE_EQ(m[3], 0.5);
    }
    if (any_good) {
      EXPECT_DOUBLE_EQ(m[4], 0.5);
    }
  }
}

TEST(Hyperclean, OptionErrorsNameTheirKeys) {
  using test::expect_config_error;
  auto comm = Communicator::world();
  auto with = [&](auto change) {
    HypercleanOptions o = small();
    change(o);
    return [o] { o.validate(); };
  };
  expect_config_error(with([](HypercleanOptions& o) { o.train_rows = 0; }),
                      "hyperclean-train-rows");
  expect_config_error(with([](HypercleanOptions& o) { o.val_rows = 0; }), "hyperclean-val-rows");
  expect_config_error(with([](HypercleanOptions& o) { o.test_rows = -1; }), "hyperclean-test-rows");
  expect_config_error(with([](HypercleanOptions& o) { o.corruption = 1.5; }),
                      "hyperclean-corruption");
  expect_config_error(with([](HypercleanOptions& o) { o.pool = 3; }), "hyperclean-pool");
  expect_config_error(with([](HypercleanOptions& o) { o.lower_reg = 0; }), "hyperclean-lower-reg");
  // Errors that need the data.
  auto build = [&](auto change, const std::string& data = "fmnist") {
    HypercleanOptions o = small();
    change(o);
    return [o, data] { HypercleanProblem p(o, data, kBlocks, 1, Placement(kBlocks, 1, 0)); };
  };
  expect_config_error(build([](HypercleanOptions& o) { o.train_rows = 3; }),
                      "hyperclean-train-rows");
  expect_config_error(build([](HypercleanOptions& o) { o.train_rows = 59990; }),
                      "hyperclean-train-rows");
  expect_config_error(build([](HypercleanOptions& o) { o.test_rows = 10001; }),
                      "hyperclean-test-rows");
  expect_config_error(build([](HypercleanOptions&) {}, "synthetic:logistic:n=300,dim=5"),
                      "hyperclean-pool");
  // Through the registry, and the config keys.
  BilevelProblemOptions po;
  po.problem = "hyperclean";
  po.hyperclean = small();
  auto q = make_bilevel_problem(po, kBlocks, 1, Placement(kBlocks, comm.size(), comm.rank()));
  EXPECT_EQ(q->name(), "hyperclean");
  po.hyperclean.corruption = -1;
  expect_config_error(
      [&] { make_bilevel_problem(po, kBlocks, 1, Placement(kBlocks, comm.size(), comm.rank())); },
      "hyperclean-corruption");
  const Config bad = Config::from_map(train_options(),
                                      {{"bilevel-problem", "multitask"}, {"hyperclean-pool", "7"}});
  expect_config_error([&] { bilevel_problem_options_from(bad); }, "hyperclean-pool");
  const Config good = Config::from_map(train_options(), {{"bilevel-problem", "hyperclean"},
                                                         {"hyperclean-pool", "4"},
                                                         {"hyperclean-train-rows", "100"}});
  const BilevelProblemOptions fromc = bilevel_problem_options_from(good);
  EXPECT_EQ(fromc.hyperclean.pool, 4);
  EXPECT_EQ(fromc.hyperclean.train_rows, 100);
  EXPECT_EQ(fromc.hyperclean.val_rows, HypercleanOptions{}.val_rows);
}
