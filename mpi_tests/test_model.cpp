// Model layer: gradients and Hessian-vector products against finite differences, smoothness and
// strong-convexity constants against measured curvature and exact eigenvalues, losses at known
// points, chunked kernels against naive per-row loops, and the --problem factory's errors.
// Each rank draws its own data (seeded by rank), so np 4 checks four times the cases.
#include <gtest/gtest.h>

#include <Eigen/Eigenvalues>
#include <cmath>
#include <string>
#include <vector>

#include "distopt/comm/communicator.hpp"
#include "distopt/core/error.hpp"
#include "distopt/core/random.hpp"
#include "distopt/model/gradient_check.hpp"
#include "distopt/model/gram_spectrum.hpp"
#include "distopt/model/least_squares.hpp"
#include "distopt/model/logistic.hpp"
#include "distopt/model/mlp.hpp"
#include "distopt/model/objective.hpp"
#include "distopt/model/objective_registry.hpp"
#include "distopt/model/softmax.hpp"

using namespace distopt;

namespace {

std::uint64_t rank_seed(std::uint64_t base) {
  return base * 1000 + static_cast<std::uint64_t>(Communicator::world().rank());
}

RowMatrix normal_matrix(Index n, Index d, RandomStream& rng, double scale = 1.0) {
  RowMatrix X(n, d);
  for (Index i = 0; i < n; ++i)
    for (Index j = 0; j < d; ++j) X(i, j) = scale * rng.normal();
  return X;
}

/// Labels for X: regression y = Xw + noise; binary sign(Xw + noise); multiclass argmax(XWᵀ + noise).
Vector make_labels(const RowMatrix& X, Task task, Index C, RandomStream& rng) {
  const Index n = X.rows(), d = X.cols();
  Vector y(n);
  if (task == Task::kMulticlass) {
    const RowMatrix W = normal_matrix(C, d, rng);
    for (Index i = 0; i < n; ++i) {
      Vector z = W * X.row(i).transpose();
      for (Index k = 0; k < C; ++k) z[k] += rng.normal();
      Index best = 0;
      z.maxCoeff(&best);
      y[i] = static_cast<double>(best);
    }
    return y;
  }
  Vector w(d);
  for (Index j = 0; j < d; ++j) w[j] = rng.normal();
  for (Index i = 0; i < n; ++i) {
    const double z = X.row(i).dot(w) + 0.3 * rng.normal();
    y[i] = task == Task::kBinary ? (z > 0 ? 1.0 : -1.0) : z;
  }
  return y;
}

Index classes_of(Task t, Index C) { return t == Task::kMulticlass ? C : (t == Task::kBinary ? 2 : 1); }

Dataset dense_data(Index n, Index d, Task task, Index C, std::uint64_t seed) {
  RandomStream rng(seed, 0, 0, Purpose::kData);
  RowMatrix X = normal_matrix(n, d, rng);
  Vector y = make_labels(X, task, C, rng);
  return Dataset(std::move(X), std::move(y), task, classes_of(task, C));
}

/// CSR data with about `density` of the entries stored (each row keeps at least one).
Dataset sparse_data(Index n, Index d, Task task, Index C, std::uint64_t seed, double density = 0.3) {
  RandomStream rng(seed, 0, 0, Purpose::kData);
  RowMatrix X = RowMatrix::Zero(n, d);
  for (Index i = 0; i < n; ++i) {
    X(i, static_cast<Index>(rng.uniform_int(static_cast<std::uint64_t>(d)))) = rng.normal();
    for (Index j = 0; j < d; ++j)
      if (rng.uniform() < density) X(i, j) = rng.normal();
  }
  Vector y = make_labels(X, task, C, rng);
  SparseRowMatrix S = X.sparseView();
  return Dataset(std::move(S), std::move(y), task, classes_of(task, C));
}

/// The same rows stored the other way (dense <-> CSR).
Dataset restore(const Dataset& ds) {
  if (ds.sparse()) return Dataset(RowMatrix(ds.csr().toDense()), ds.labels(), ds.task(), ds.n_classes());
  SparseRowMatrix S = ds.dense().sparseView();
  return Dataset(std::move(S), ds.labels(), ds.task(), ds.n_classes());
}

Vector random_vector(Index d, RandomStream& rng, double scale) {
  Vector v(d);
  for (Index j = 0; j < d; ++j) v[j] = scale * rng.normal();
  return v;
}

struct ProblemCase {
  std::string problem;
  Task task;
};

const std::vector<ProblemCase> kProblems = {{"least-squares", Task::kRegression},
                                            {"logistic", Task::kBinary},
                                            {"softmax", Task::kMulticlass},
                                            {"mlp:7", Task::kMulticlass},
                                            {"mlp:6,5", Task::kMulticlass}};

const std::vector<Regularization> kRegs = {{0.0, 0.0}, {0.3, 0.0}, {0.0, 0.1}, {0.05, 0.2}};

std::string describe(const std::string& problem, bool sparse, const Regularization& r) {
  return problem + (sparse ? " sparse" : " dense") + " l2=" + std::to_string(r.l2) +
         " nonconvex=" + std::to_string(r.nonconvex);
}

/// Largest ‖∇f(x) − ∇f(z)‖/‖x − z‖ over random pairs at several scales (a lower estimate of L),
/// and the smallest (∇f(x) − ∇f(z))ᵀ(x − z)/‖x − z‖² (an upper estimate of μ).
std::pair<double, double> measured_curvature(const Objective& f, const DataBlock& rows, RandomStream& rng,
                                             int pairs) {
  double lmax = 0.0, mumin = 1e300;
  Vector gx, gz;
  for (int k = 0; k < pairs; ++k) {
    const double scale = (k % 3 == 0) ? 0.1 : (k % 3 == 1 ? 1.0 : 3.0);
    const Vector x = random_vector(f.dim(), rng, scale);
    // Close pairs probe the local Hessian; far pairs the secant.
    const Vector z = x + random_vector(f.dim(), rng, k % 2 ? 1e-3 : scale);
    f.loss_grad(x, rows, gx);
    f.loss_grad(z, rows, gz);
    const double dx = (x - z).norm();
    lmax = std::max(lmax, (gx - gz).norm() / dx);
    mumin = std::min(mumin, (gx - gz).dot(x - z) / (dx * dx));
  }
  return {lmax, mumin};
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Finite differences

TEST(ModelGradients, EveryModelStorageAndRegularizerMatchesFiniteDifferences) {
  for (const auto& pc : kProblems) {
    for (bool sparse : {false, true}) {
      const Index n = 37, d = 9, C = 4;
      const std::uint64_t seed = rank_seed(11);
      const Dataset ds = sparse ? sparse_data(n, d, pc.task, C, seed) : dense_data(n, d, pc.task, C, seed);
      for (const auto& reg : kRegs) {
        SCOPED_TRACE(describe(pc.problem, sparse, reg));
        auto f = make_objective(pc.problem, d, ds.n_classes(), pc.task, reg);
        RandomStream rng(seed, 1, 0);
        Vector x = f->initial_point(seed) + random_vector(f->dim(), rng, 0.5);
        GradientCheckOptions opt;
        opt.seed = seed;
        const auto r = check_gradient(*f, x, ds.all(), opt);
        EXPECT_LT(r.grad_rel_error, 2e-7);
        const bool want_hvp = pc.problem.rfind("mlp", 0) != 0;
        EXPECT_EQ(r.hvp_checked, want_hvp);
        if (want_hvp) {
          EXPECT_LT(r.hvp_rel_error, 2e-7);
        }
      }
    }
  }
}

TEST(ModelGradients, CheckerDetectsAWrongGradient) {
  // A model whose gradient is off by 1% must fail the same thresholds the other tests use.
  class Scaled final : public Objective {
   public:
    explicit Scaled(Index d) : inner_(d) {}
    std::string name() const override { return "scaled"; }
    const ParameterLayout& layout() const override { return inner_.layout(); }
    double sum_loss(const Vector& x, const DataBlock& rows, Vector* g) const override {
      Vector tmp = Vector::Zero(x.size());
      const double l = inner_.sum_loss(x, rows, &tmp);
      if (g) *g += 1.01 * tmp;
      return l;
    }
    Index sum_correct(const Vector&, const DataBlock&) const override { return -1; }
    double smoothness(const DataBlock& rows) const override { return inner_.smoothness(rows); }
    double strong_convexity(const DataBlock&) const override { return 0; }

   private:
    LeastSquares inner_;
  };
  const Dataset ds = dense_data(20, 5, Task::kRegression, 1, rank_seed(12));
  Scaled f(5);
  RandomStream rng(3, 0, 0);
  const auto r = check_gradient(f, random_vector(5, rng, 1.0), ds.all());
  EXPECT_GT(r.grad_rel_error, 1e-3);
  EXPECT_FALSE(r.hvp_checked);
}

TEST(ModelGradients, LogisticIsStableAtHugeMargins) {
  const Index d = 6;
  const Dataset ds = dense_data(30, d, Task::kBinary, 2, rank_seed(13));
  Logistic f(d);
  RandomStream rng(rank_seed(13), 2, 0);
  const Vector x = random_vector(d, rng, 1e4);  // margins of order 1e4: exp would overflow
  Vector g;
  const double l = f.loss_grad(x, ds.all(), g);
  ASSERT_TRUE(std::isfinite(l));
  ASSERT_TRUE(g.allFinite());
  // log(1 + e^t) = t + log(1 + e^−t) for t > 0 (the naive form overflows for t > 709).
  const Vector z = ds.dense() * x;
  double expect = 0.0;
  for (Index i = 0; i < z.size(); ++i) {
    const double t = -ds.labels()[i] * z[i];
    expect += t > 0 ? t + std::log(1.0 + std::exp(-t)) : std::log(1.0 + std::exp(t));
  }
  EXPECT_NEAR(l, expect / 30.0, 1e-9 * std::max(1.0, expect));
  Vector hv;
  f.hvp(x, g, ds.all(), hv);
  EXPECT_TRUE(hv.allFinite());
}

// ---------------------------------------------------------------------------------------------
// Chunked kernels against naive per-row formulas, and block offsets

TEST(ModelKernels, MatchNaivePerRowFormulasAcrossChunks) {
  // n large enough for several chunks (dense chunks are 256 KiB: 1638 rows at d = 20; MLP chunks
  // 512 rows), evaluated on a block that starts at row 101 to exercise offsets.
  const Index n = 3500, d = 20, C = 3, first = 101, count = 3300;
  const std::uint64_t seed = rank_seed(21);
  RandomStream rng(seed, 5, 0);
  for (const auto& pc : kProblems) {
    SCOPED_TRACE(pc.problem);
    const Dataset ds = dense_data(n, d, pc.task, C, seed);
    const Regularization reg{0.01, 0.02};
    auto f = make_objective(pc.problem, d, ds.n_classes(), pc.task, reg);
    const Vector x = f->initial_point(seed) + random_vector(f->dim(), rng, 0.3);
    const DataBlock blk = ds.block(first, count);
    Vector g = Vector::Zero(f->dim());
    const double s = f->sum_loss(x, blk, &g);

    // Naive: per row, straight from the formulas in the headers (forward differences not used).
    double s_ref = 0.0;
    Vector g_ref = Vector::Zero(f->dim());
    const auto& L = f->layout();
    for (Index r = first; r < first + count; ++r) {
      const Vector a = ds.dense().row(r).transpose();
      const double y = ds.labels()[r];
      if (pc.problem == "least-squares") {
        const double res = a.dot(x) - y;
        s_ref += 0.5 * res * res;
        g_ref += res * a;
      } else if (pc.problem == "logistic") {
        const double m = y * a.dot(x);
        s_ref += std::log1p(std::exp(-m));
        g_ref += -y / (1.0 + std::exp(m)) * a;
      } else {
        // Softmax / MLP: hidden activations row by row, then the softmax loss.
        std::vector<Vector> h{a};
        const std::size_t nl = L.blocks().size() / 2;
        for (std::size_t l = 0; l < nl; ++l) {
          Vector z = L.block_matrix(x, 2 * l) * h.back() + x.segment(L.blocks()[2 * l + 1].offset, L.blocks()[2 * l + 1].rows);
          if (l + 1 < nl) z = z.cwiseMax(0.0);
          h.push_back(z);
        }
        const Vector& z = h.back();
        // Scalar std::exp on purpose: a naive reference (and GCC 12 warns inside Eigen's AVX-512 exp).
        const auto sexp = [](double t) { return std::exp(t); };
        const double lse = std::log(z.unaryExpr(sexp).sum());
        const auto k = static_cast<Index>(y);
        s_ref += lse - z[k];
        // Backward, row by row.
        Vector delta = (z.array() - lse).matrix().unaryExpr(sexp);
        delta[k] -= 1.0;
        for (std::size_t l = nl; l-- > 0;) {
          L.block_matrix(g_ref, 2 * l) += delta * h[l].transpose();
          g_ref.segment(L.blocks()[2 * l + 1].offset, delta.size()) += delta;
          if (l > 0) {
            Vector back = L.block_matrix(x, 2 * l).transpose() * delta;
            delta = (h[l].array() > 0).select(back.array(), 0.0).matrix();
          }
        }
      }
    }
    EXPECT_NEAR(s, s_ref, 1e-10 * std::abs(s_ref));
    EXPECT_LT((g - g_ref).norm(), 1e-10 * g_ref.norm());

    // The same rows as their own dataset, and stored as CSR, give the same sums.
    const Dataset sub(RowMatrix(ds.dense().middleRows(first, count)), ds.labels().segment(first, count),
                      ds.task(), ds.n_classes());
    const Dataset sub_csr = restore(sub);
    for (const Dataset* other : {&sub, &sub_csr}) {
      Vector g2 = Vector::Zero(f->dim());
      const double s2 = f->sum_loss(x, other->all(), &g2);
      EXPECT_NEAR(s2, s, 1e-11 * std::abs(s));
      EXPECT_LT((g2 - g).norm(), 1e-11 * g.norm());
      EXPECT_EQ(f->sum_correct(x, other->all()), f->sum_correct(x, blk));
    }
  }
}

TEST(ModelKernels, SumsOverRankBlocksAddUpToTheFullSum) {
  // The sum_* convention: losses and gradients of disjoint blocks on different ranks add exactly
  // (up to rounding) to the full-data values.
  auto comm = Communicator::world();
  const Index n = 403, d = 11, C = 5;
  for (const auto& pc : kProblems) {
    SCOPED_TRACE(pc.problem);
    const Dataset ds = sparse_data(n, d, pc.task, C, 31);  // same data on every rank
    auto f = make_objective(pc.problem, d, ds.n_classes(), pc.task, {});
    RandomStream rng(31, 1, 0);
    const Vector x = f->initial_point(31) + random_vector(f->dim(), rng, 0.4);
    const Index per = (n + comm.size() - 1) / comm.size();
    const Index b = std::min(n, per * comm.rank()), e = std::min(n, b + per);
    Vector buf = Vector::Zero(f->dim() + 2);
    Vector g = Vector::Zero(f->dim());
    buf[f->dim()] = f->sum_loss(x, ds.block(b, e - b), &g);
    buf.head(f->dim()) = g;
    buf[f->dim() + 1] = static_cast<double>(f->sum_correct(x, ds.block(b, e - b)));
    comm.allreduce_sum(buf);
    Vector g_all = Vector::Zero(f->dim());
    const double s_all = f->sum_loss(x, ds.all(), &g_all);
    EXPECT_NEAR(buf[f->dim()], s_all, 1e-12 * std::abs(s_all));
    EXPECT_LT((buf.head(f->dim()) - g_all).norm(), 1e-12 * g_all.norm());
    const Index c_all = f->sum_correct(x, ds.all());
    if (pc.task == Task::kRegression) {
      EXPECT_EQ(c_all, -1);
    } else {
      EXPECT_EQ(static_cast<Index>(buf[f->dim() + 1]), c_all);
    }
  }
}

TEST(ModelKernels, EmptyBlockIsTheRegularizerAlone) {
  const Dataset ds = dense_data(10, 4, Task::kBinary, 2, rank_seed(32));
  const Regularization reg{0.5, 0.25};
  Logistic f(4, reg);
  const Vector x = Vector::LinSpaced(4, -1.0, 2.0);
  Vector g;
  const double l = f.loss_grad(x, ds.block(3, 0), g);
  Vector gr = Vector::Zero(4);
  const double r = regularization_value(reg, x, &gr);
  EXPECT_DOUBLE_EQ(l, r);
  EXPECT_LT((g - gr).norm(), 1e-15);
  // R by hand: 0.25‖x‖² + 0.25 Σ x²/(1+x²).
  double expect = 0.0;
  for (Index j = 0; j < 4; ++j) expect += 0.25 * x[j] * x[j] + 0.25 * x[j] * x[j] / (1 + x[j] * x[j]);
  EXPECT_NEAR(r, expect, 1e-15);
}

// ---------------------------------------------------------------------------------------------
// Known values

TEST(ModelValues, LossesAtZeroAreLogTwoAndLogC) {
  for (bool sparse : {false, true}) {
    const Dataset bin = sparse ? sparse_data(50, 7, Task::kBinary, 2, rank_seed(41))
                               : dense_data(50, 7, Task::kBinary, 2, rank_seed(41));
    const Dataset multi = sparse ? sparse_data(50, 7, Task::kMulticlass, 6, rank_seed(42))
                                 : dense_data(50, 7, Task::kMulticlass, 6, rank_seed(42));
    const Regularization reg{0.7, 0.3};  // R(0) = 0
    Logistic lg(7, reg);
    Softmax sm(7, 6, reg);
    EXPECT_NEAR(lg.loss(lg.initial_point(1), bin.all()), std::log(2.0), 1e-15);
    EXPECT_NEAR(sm.loss(sm.initial_point(1), multi.all()), std::log(6.0), 1e-14);
    // At 0 every logit is equal: argmax picks class 0 (ties: lowest index); logistic predicts −1.
    Index zeros = 0, negatives = 0;
    for (Index i = 0; i < 50; ++i) {
      zeros += multi.labels()[i] == 0.0;
      negatives += bin.labels()[i] < 0.0;
    }
    EXPECT_EQ(sm.sum_correct(sm.initial_point(1), multi.all()), zeros);
    EXPECT_EQ(lg.sum_correct(lg.initial_point(1), bin.all()), negatives);
  }
}

TEST(ModelValues, SeparatingWeightsClassifyEverything) {
  // Labels made without noise: the generating weights classify every row.
  RandomStream rng(rank_seed(43), 0, 0);
  const Index n = 200, d = 8, C = 4;
  const RowMatrix X = normal_matrix(n, d, rng);
  const Vector w = random_vector(d, rng, 1.0);
  const RowMatrix W = normal_matrix(C, d, rng);
  Vector yb(n), yc(n), yr(n);
  for (Index i = 0; i < n; ++i) {
    yb[i] = X.row(i).dot(w) > 0 ? 1.0 : -1.0;
    Index k = 0;
    (W * X.row(i).transpose()).maxCoeff(&k);
    yc[i] = static_cast<double>(k);
    yr[i] = X.row(i).dot(w);
  }
  const Dataset bin(X, yb, Task::kBinary, 2), multi(X, yc, Task::kMulticlass, C), reg(X, yr, Task::kRegression, 1);
  EXPECT_EQ(Logistic(d).sum_correct(w, bin.all()), n);
  EXPECT_EQ(Logistic(d).sum_correct(-w, bin.all()), 0);
  Softmax sm(d, C);
  Vector x = Vector::Zero(sm.dim());
  sm.layout().block_matrix(x, 0) = W;
  EXPECT_EQ(sm.sum_correct(x, multi.all()), n);
  LeastSquares ls(d);
  EXPECT_EQ(ls.sum_correct(w, reg.all()), -1);
  EXPECT_EQ(ls.sum_correct(w, bin.all()), n);  // least squares on ±1 labels classifies by sign
  EXPECT_NEAR(ls.loss(w, reg.all()), 0.0, 1e-25);
}

TEST(ModelValues, BadLabelsAreInputErrors) {
  RandomStream rng(rank_seed(44), 0, 0);
  const RowMatrix X = normal_matrix(5, 3, rng);
  Vector y(5);
  y << 0, 1, 2, 3, 1;  // 3 is not a class when C = 3
  const Dataset ds(X, y, Task::kMulticlass, 3);
  Softmax sm(3, 3);
  Mlp mlp(3, {4}, 3);
  EXPECT_THROW(sm.loss(sm.initial_point(1), ds.all()), InputError);
  EXPECT_THROW(mlp.loss(mlp.initial_point(1), ds.all()), InputError);
  EXPECT_NO_THROW(sm.loss(sm.initial_point(1), ds.block(0, 3)));
  y[3] = 0.5;
  const Dataset frac(X, y, Task::kMulticlass, 3);
  EXPECT_THROW(sm.loss(sm.initial_point(1), frac.all()), InputError);
}

// ---------------------------------------------------------------------------------------------
// Smoothness and strong convexity

TEST(ModelConstants, SmoothnessBoundsMeasuredCurvature) {
  for (const auto& pc : std::vector<ProblemCase>(kProblems.begin(), kProblems.begin() + 3)) {
    for (bool sparse : {false, true}) {
      for (const auto& reg : kRegs) {
        SCOPED_TRACE(describe(pc.problem, sparse, reg));
        const std::uint64_t seed = rank_seed(51);
        const Dataset ds = sparse ? sparse_data(60, 8, pc.task, 3, seed) : dense_data(60, 8, pc.task, 3, seed);
        auto f = make_objective(pc.problem, 8, ds.n_classes(), pc.task, reg);
        const double L = f->smoothness(ds.all());
        const double mu = f->strong_convexity(ds.all());
        RandomStream rng(seed, 3, 0);
        const auto [lmeas, mumeas] = measured_curvature(*f, ds.all(), rng, 30);
        EXPECT_LE(lmeas, L * (1 + 1e-9));
        EXPECT_GE(mu, 0.0);
        // μ is a lower bound on the curvature when positive (0 means none is claimed).
        if (mu > 0) {
          EXPECT_LE(mu, mumeas + 1e-9);
        }
        // The losses are convex, so curvature never goes below R's bound l2 − λ/2.
        EXPECT_GE(mumeas, reg.l2 - 0.5 * reg.nonconvex - 1e-9);
        if (pc.problem == "least-squares") {
          // Quadratic (up to R): the bound is attained along the top eigenvector, so the measured
          // ratio must come close when R is convex and the pairs are many; check the exact value.
          Matrix AtA = sparse ? Matrix(RowMatrix(ds.csr().toDense()).transpose() * RowMatrix(ds.csr().toDense()))
                              : Matrix(ds.dense().transpose() * ds.dense());
          Eigen::SelfAdjointEigenSolver<Matrix> es(AtA);
          const double lmax = es.eigenvalues().maxCoeff() / 60.0, lmin = es.eigenvalues().minCoeff() / 60.0;
          EXPECT_NEAR(L, lmax + reg.l2 + 2 * reg.nonconvex, 1e-12 * L);
          EXPECT_NEAR(mu, std::max(0.0, lmin + reg.l2 - 0.5 * reg.nonconvex), 1e-12 * L);
        }
        if (pc.problem == "logistic" && reg.nonconvex == 0.0) {
          EXPECT_DOUBLE_EQ(mu, reg.l2);
        }
      }
    }
  }
}

TEST(ModelConstants, SmoothnessIsTightOnTheHessianAtZero) {
  // Logistic at x = 0 has Hessian AᵀA/(4n) exactly, so the bound is attained there: the HVP along
  // the top eigenvector must give L (no slack hiding in the bound).
  const Dataset ds = dense_data(80, 6, Task::kBinary, 2, rank_seed(52));
  Logistic f(6);
  const Matrix AtA = ds.dense().transpose() * ds.dense();
  Eigen::SelfAdjointEigenSolver<Matrix> es(AtA);
  const Vector v = es.eigenvectors().col(5);
  Vector hv;
  f.hvp(Vector::Zero(6), v, ds.all(), hv);
  EXPECT_NEAR(hv.norm(), f.smoothness(ds.all()), 1e-12);
}

TEST(ModelConstants, PowerIterationMatchesKnownSpectrumWhenTheGramIsTooLarge) {
  // min(n, d) > kExactGramLimit forces power iteration. A = P D (P a row permutation, D diagonal)
  // has AᵀA = D², whose top eigenvalue is known.
  const Index n = kExactGramLimit + 76;
  RandomStream rng(rank_seed(53), 0, 0);
  std::vector<Index> perm(static_cast<std::size_t>(n));
  for (Index i = 0; i < n; ++i) perm[static_cast<std::size_t>(i)] = i;
  rng.shuffle(perm.begin(), perm.end());
  std::vector<Eigen::Triplet<double, std::int64_t>> trip;
  double top = 0.0;
  for (Index j = 0; j < n; ++j) {
    const double s = j == 17 ? 3.0 : 2.0 * rng.uniform();  // top singular value 3, gap ≥ 1.5
    top = std::max(top, s * s);
    trip.emplace_back(perm[static_cast<std::size_t>(j)], j, s);
  }
  SparseRowMatrix S(n, n);
  S.setFromTriplets(trip.begin(), trip.end());
  const Dataset sp(S, Vector::Zero(n), Task::kRegression, 1);
  const Dataset de = restore(sp);
  for (const Dataset* ds : {&sp, &de}) {
    const double lmax = gram_lambda_max(ds->all());
    EXPECT_GE(lmax, top * (1 - 1e-12));
    EXPECT_LE(lmax, top * (1 + 1e-6));
    EXPECT_EQ(gram_lambda_min(ds->all()), 0.0);  // not computed exactly at this size: 0 is the bound
  }
  // And the least-squares model reports λ_max/n.
  EXPECT_NEAR(LeastSquares(n).smoothness(sp.all()), top / static_cast<double>(n), 1e-6 * top / n);
}

TEST(ModelConstants, AugmentedGramExactAndIterativeAgree) {
  // Softmax uses λ_max of [A 1]ᵀ[A 1]: check against a directly built augmented matrix, on both
  // the primal (d+1 ≤ n) and the dual (n < d+1) Gram.
  for (Index n : {40, 5}) {
    const Dataset ds = dense_data(n, 9, Task::kMulticlass, 3, rank_seed(54) + static_cast<std::uint64_t>(n));
    RowMatrix Aug(n, 10);
    Aug << ds.dense(), Vector::Ones(n);
    Eigen::SelfAdjointEigenSolver<Matrix> es(Matrix(Aug.transpose() * Aug));
    const double expect = es.eigenvalues().maxCoeff();
    EXPECT_NEAR(gram_lambda_max(ds.all(), true), expect, 1e-12 * expect);
    EXPECT_NEAR(gram_lambda_max(restore(ds).all(), true), expect, 1e-12 * expect);
    Softmax sm(9, 3);
    EXPECT_NEAR(sm.smoothness(ds.all()), 0.5 * expect / static_cast<double>(n), 1e-12 * expect);
  }
}

TEST(ModelConstants, MlpIsNonconvex) {
  const Dataset ds = dense_data(10, 4, Task::kMulticlass, 3, rank_seed(55));
  Mlp f(4, {5}, 3);
  EXPECT_TRUE(std::isinf(f.smoothness(ds.all())));
  EXPECT_EQ(f.strong_convexity(ds.all()), 0.0);
  EXPECT_FALSE(f.has_hvp());
  Vector out;
  EXPECT_THROW(f.hvp(f.initial_point(1), f.initial_point(2), ds.all(), out), Error);
}

// ---------------------------------------------------------------------------------------------
// Layout and initial points

TEST(ModelLayout, BlocksExposeTheMatrices) {
  auto sm = make_objective("softmax", 784, 10, Task::kMulticlass, {});
  ASSERT_EQ(sm->layout().blocks().size(), 2u);
  EXPECT_EQ(sm->layout().blocks()[0].name, "W");
  EXPECT_TRUE(sm->layout().blocks()[0].is_matrix());
  EXPECT_EQ(sm->layout().blocks()[0].rows, 10);
  EXPECT_EQ(sm->layout().blocks()[0].cols, 784);
  EXPECT_EQ(sm->dim(), 7850);

  auto m2 = make_objective("mlp:200,50", 784, 10, Task::kMulticlass, {});
  EXPECT_EQ(m2->name(), "mlp:200,50");
  const auto& b = m2->layout().blocks();
  ASSERT_EQ(b.size(), 6u);
  const std::vector<std::string> names{"W1", "b1", "W2", "b2", "W3", "b3"};
  const std::vector<std::pair<Index, Index>> shapes{{200, 784}, {200, 1}, {50, 200}, {50, 1}, {10, 50}, {10, 1}};
  for (std::size_t i = 0; i < b.size(); ++i) {
    EXPECT_EQ(b[i].name, names[i]);
    EXPECT_EQ(b[i].rows, shapes[i].first);
    EXPECT_EQ(b[i].cols, shapes[i].second);
  }
  EXPECT_EQ(m2->dim(), 200 * 785 + 50 * 201 + 10 * 51);
  auto m1 = make_objective("mlp:16", 5, 3, Task::kMulticlass, {});
  EXPECT_EQ(m1->name(), "mlp:16");
  EXPECT_EQ(m1->layout().blocks().size(), 4u);
  EXPECT_EQ(m1->dim(), 16 * 6 + 3 * 17);
}

TEST(ModelLayout, HeInitialisationIsSeededAndScaled) {
  Mlp f(784, {200}, 10);
  const Vector a = f.initial_point(7), b = f.initial_point(7), c = f.initial_point(8);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  const auto& blocks = f.layout().blocks();
  for (const auto& blk : blocks) {
    const auto seg = a.segment(blk.offset, blk.size());
    if (blk.name[0] == 'b') {
      EXPECT_EQ(seg.squaredNorm(), 0.0) << blk.name;
      continue;
    }
    // Sample variance against 2/fan_in: 156800 draws give ±1.1% (3σ); 2000 draws ±9.5%.
    const double var = seg.squaredNorm() / static_cast<double>(seg.size());
    const double expect = 2.0 / static_cast<double>(blk.cols);
    const double tol = 3.0 * std::sqrt(2.0 / static_cast<double>(seg.size()));
    EXPECT_NEAR(var / expect, 1.0, tol) << blk.name;
    EXPECT_NEAR(seg.mean(), 0.0, 3.0 * std::sqrt(expect / static_cast<double>(seg.size()))) << blk.name;
  }
  EXPECT_EQ(Logistic(5).initial_point(3), Vector::Zero(5));
  EXPECT_EQ(Softmax(5, 3).initial_point(3), Vector::Zero(18));
}

// ---------------------------------------------------------------------------------------------
// make_objective

TEST(ModelFactory, BuildsEveryProblem) {
  EXPECT_EQ(make_objective("least-squares", 5, 1, Task::kRegression, {})->name(), "least-squares");
  EXPECT_EQ(make_objective("least-squares", 5, 2, Task::kBinary, {})->name(), "least-squares");
  EXPECT_EQ(make_objective("logistic", 5, 2, Task::kBinary, {})->dim(), 5);
  EXPECT_EQ(make_objective("softmax", 5, 3, Task::kMulticlass, {})->dim(), 18);
  auto f = make_objective("logistic", 5, 2, Task::kBinary, {0.25, 0.5});
  EXPECT_EQ(f->regularization().l2, 0.25);
  EXPECT_EQ(f->regularization().nonconvex, 0.5);
}

// `auto` (the --problem default) is the linear model of the data's task, with its regulariser.
TEST(ModelFactory, AutoPicksTheModelOfTheTask) {
  Regularization reg;
  reg.l2 = 0.5;
  const auto ls = make_objective("auto", 5, 1, Task::kRegression, reg);
  const auto lg = make_objective("auto", 5, 2, Task::kBinary, reg);
  const auto sm = make_objective("auto", 5, 3, Task::kMulticlass, reg);
  EXPECT_EQ(ls->name(), make_objective("least-squares", 5, 1, Task::kRegression, reg)->name());
  EXPECT_EQ(lg->name(), make_objective("logistic", 5, 2, Task::kBinary, reg)->name());
  EXPECT_EQ(sm->name(), make_objective("softmax", 5, 3, Task::kMulticlass, reg)->name());
  EXPECT_NE(ls->name(), lg->name());
  EXPECT_NE(lg->name(), sm->name());
  EXPECT_EQ(sm->dim(), 3 * (5 + 1));
  EXPECT_EQ(lg->regularization().l2, 0.5);
  EXPECT_EQ(ObjectiveOptions{}.problem, "auto");
  EXPECT_THROW(make_objective("auto:3", 5, 3, Task::kMulticlass, reg), ConfigError);
}

TEST(ModelFactory, BadSpecsAndMisfitTasksNameTheProblem) {
  struct Bad {
    std::string problem;
    Task task;
    Index classes;
    std::string fragment;  // expected in the message
  };
  const std::vector<Bad> bad = {
      {"lasso", Task::kRegression, 1, "unknown problem 'lasso'"},
      {"", Task::kRegression, 1, "unknown problem ''"},
      {"Logistic", Task::kBinary, 2, "unknown problem 'Logistic'"},
      {"mlp", Task::kMulticlass, 3, "'mlp': give the hidden layer sizes"},
      {"mlp:", Task::kMulticlass, 3, "'mlp:': give the hidden layer sizes"},
      {"mlp:0", Task::kMulticlass, 3, "'0' is not a positive integer"},
      {"mlp:-4", Task::kMulticlass, 3, "'-4' is not a positive integer"},
      {"mlp:+4", Task::kMulticlass, 3, "'+4' is not a positive integer"},
      {"mlp:1.5", Task::kMulticlass, 3, "'1.5' is not a positive integer"},
      {"mlp:abc", Task::kMulticlass, 3, "'abc' is not a positive integer"},
      {"mlp:8,", Task::kMulticlass, 3, "'' is not a positive integer"},
      {"mlp:,8", Task::kMulticlass, 3, "'' is not a positive integer"},
      {"mlp: 8", Task::kMulticlass, 3, "' 8' is not a positive integer"},
      {"mlp:99999999999999999999", Task::kMulticlass, 3, "is not a positive integer"},
      {"mlp:5000000", Task::kMulticlass, 3, "is too large"},
      {"mlp:8,4,2", Task::kMulticlass, 3, "at most two hidden layers"},
      {"mlpx", Task::kMulticlass, 3, "unknown problem 'mlpx'"},
      {"logistic", Task::kMulticlass, 3, "'logistic' needs binary"},
      {"logistic", Task::kRegression, 1, "'logistic' needs binary"},
      {"softmax", Task::kBinary, 2, "'softmax' needs multiclass"},
      {"mlp:8", Task::kRegression, 1, "'mlp:8' needs multiclass"},
      {"least-squares", Task::kMulticlass, 4, "'least-squares' needs real"},
  };
  for (const auto& b : bad) {
    SCOPED_TRACE("problem '" + b.problem + "'");
    try {
      make_objective(b.problem, 5, b.classes, b.task, {});
      ADD_FAILURE() << "no error";
    } catch (const ConfigError& e) {
      EXPECT_EQ(e.key(), "problem");
      const std::string msg = e.what();
      EXPECT_EQ(msg.rfind("--problem: ", 0), 0u) << msg;
      EXPECT_NE(msg.find(b.fragment), std::string::npos) << msg;
    }
  }
  try {
    make_objective("logistic", 5, 2, Task::kBinary, {-1.0, 0.0});
    ADD_FAILURE() << "negative l2 accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key(), "l2");
  }
  try {
    make_objective("logistic", 5, 2, Task::kBinary, {0.0, std::nan("")});
    ADD_FAILURE() << "NaN regulariser accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key(), "nonconvex-reg");
  }
}
