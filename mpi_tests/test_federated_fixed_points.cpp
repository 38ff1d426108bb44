// Federated methods on heterogeneous quadratics f_i(x) = ½(x−b_i)ᵀA_i(x−b_i) with full-batch local
// GD and full participation (ALGORITHMS.md §1, "Test hooks"): each method's limit is compared with
// its fixed point computed here independently, by closed form and a linear solve:
//   FedAvg,  K > 1:  Σ p_i (I − M_i)(b_i − x) = 0,  M_i = (I − η A_i)^K          (biased)
//   FedProx:         Σ p_i (I − N_i) B_i⁻¹ A_i (b_i − x) = 0,  B_i = A_i + μI, N_i = (I − η B_i)^K
//   SCAFFOLD, FedDyn, FedSpeed --fedspeed-server active (α = 0), fedspeed-sim (ρ = 0; the
//   default server form): the minimiser of f = Σ p_i f_i,
//                    (Σ p_i A_i) x = Σ p_i A_i b_i.
// Every limit is asserted to 1e-10 relative; since these values do not depend on the number of
// ranks, passing at np 1, 2 and 4 is also the cross-rank agreement of these runs.
#include <gtest/gtest.h>

#include <Eigen/Dense>

#include "test_federated_common.hpp"

using namespace fedtest;

namespace {

constexpr double kTol = 1e-10;

Matrix matrix_power(const Matrix& M, int k) {
  Matrix R = Matrix::Identity(M.rows(), M.cols());
  for (int i = 0; i < k; ++i) R = R * M;
  return R;
}

/// Minimiser of Σ p_i f_i.
Vector true_minimiser(const Problem& p, const std::vector<double>& w) {
  Matrix H = Matrix::Zero(p.dim, p.dim);
  Vector r = Vector::Zero(p.dim);
  for (Index i = 0; i < p.clients; ++i) {
    Matrix A;
    Vector b;
    p.quadratic(i, A, b);
    H += w[static_cast<std::size_t>(i)] * A;
    r += w[static_cast<std::size_t>(i)] * A * b;
  }
  return H.partialPivLu().solve(r);
}

/// Fixed point of x ↦ x + Σ p_i T_i (b_i − x) for per-client matrices T_i.
template <class MakeT>
Vector weighted_fixed_point(const Problem& p, const std::vector<double>& w, MakeT make_t) {
  Matrix H = Matrix::Zero(p.dim, p.dim);
  Vector r = Vector::Zero(p.dim);
  for (Index i = 0; i < p.clients; ++i) {
    Matrix A;
    Vector b;
    p.quadratic(i, A, b);
    const Matrix T = make_t(A);
    H += w[static_cast<std::size_t>(i)] * T;
    r += w[static_cast<std::size_t>(i)] * T * b;
  }
  return H.partialPivLu().solve(r);
}

Vector fedavg_fixed_point(const Problem& p, const std::vector<double>& w, double lr, int K) {
  return weighted_fixed_point(p, w, [&](const Matrix& A) {
    const Matrix I = Matrix::Identity(A.rows(), A.cols());
    return Matrix(I - matrix_power(I - lr * A, K));
  });
}

Vector fedprox_fixed_point(const Problem& p, const std::vector<double>& w, double lr, int K, double mu) {
  return weighted_fixed_point(p, w, [&](const Matrix& A) {
    const Matrix I = Matrix::Identity(A.rows(), A.cols());
    const Matrix B = A + mu * I;
    const Matrix N = matrix_power(I - lr * B, K);
    return Matrix((I - N) * B.partialPivLu().solve(A));
  });
}

Vector run(const Problem& p, std::map<std::string, std::string> kv, std::int64_t rounds) {
  auto comm = Communicator::world();
  return run_rounds(comm, p, make_config(p, std::move(kv)), rounds);
}

}  // namespace

TEST(FederatedFixedPoints, FedAvgConvergesToItsBiasedFixedPoint) {
  const Problem p;
  const auto w = p.weights(false);
  const Vector expected = fedavg_fixed_point(p, w, 0.1, 5);
  const Vector opt = true_minimiser(p, w);
  // The bias is real: the test separates FedAvg's point from the optimum.
  ASSERT_GT(rel_diff(expected, opt), 1e-3);
  const Vector x = run(p, {{"algorithm", "fedavg"}}, 300);
  EXPECT_LT(rel_diff(x, expected), kTol) << "x = " << x.transpose() << "\nexpected " << expected.transpose();
  // The fixed point does not depend on the server step or on heavy-ball momentum at the server.
  const Vector xg = run(p, {{"algorithm", "fedavg"}, {"lr-global", "0.7"}}, 400);
  EXPECT_LT(rel_diff(xg, expected), kTol);
  const Vector xm = run(p, {{"algorithm", "fedavg"}, {"server-opt", "momentum"}, {"lr-global", "0.5"},
                            {"server-momentum", "0.5"}}, 400);
  EXPECT_LT(rel_diff(xm, expected), kTol);
}

TEST(FederatedFixedPoints, FedAvgWithOneLocalStepIsGradientDescent) {
  const Problem p;
  const Vector opt = true_minimiser(p, p.weights(false));
  const Vector x = run(p, {{"algorithm", "fedavg"}, {"local-steps", "1"}, {"lr", "0.2"}}, 600);
  EXPECT_LT(rel_diff(x, opt), kTol);
}

TEST(FederatedFixedPoints, FedProxConvergesToItsFixedPoint) {
  const Problem p;
  const auto w = p.weights(false);
  const Vector expected = fedprox_fixed_point(p, w, 0.1, 5, 0.5);
  ASSERT_GT(rel_diff(expected, fedavg_fixed_point(p, w, 0.1, 5)), 1e-3);
  ASSERT_GT(rel_diff(expected, true_minimiser(p, w)), 1e-3);
  const Vector x = run(p, {{"algorithm", "fedprox"}, {"prox-mu", "0.5"}}, 300);
  EXPECT_LT(rel_diff(x, expected), kTol);
}

TEST(FederatedFixedPoints, ScaffoldConvergesToTheMinimiser) {
  const Problem p;
  const Vector opt = true_minimiser(p, p.weights(false));
  const Vector x = run(p, {{"algorithm", "scaffold"}}, 300);
  EXPECT_LT(rel_diff(x, opt), kTol) << "x = " << x.transpose() << "\nopt " << opt.transpose();
  // Uniform weights: the minimiser of the plain mean of the f_i.
  const Vector optu = true_minimiser(p, p.weights(true));
  ASSERT_GT(rel_diff(optu, opt), 1e-3);
  const Vector xu = run(p, {{"algorithm", "scaffold"}, {"weighting", "uniform"}}, 300);
  EXPECT_LT(rel_diff(xu, optu), kTol);
}

TEST(FederatedFixedPoints, FedDynConvergesToTheMinimiser) {
  const Problem p;
  const Vector opt = true_minimiser(p, p.weights(false));
  const Vector x = run(p, {{"algorithm", "feddyn"}, {"feddyn-alpha", "0.5"}}, 300);
  EXPECT_LT(rel_diff(x, opt), kTol) << "x = " << x.transpose() << "\nopt " << opt.transpose();
  const Vector optu = true_minimiser(p, p.weights(true));
  const Vector xu = run(p, {{"algorithm", "feddyn"}, {"feddyn-alpha", "0.5"}, {"weighting", "uniform"}}, 300);
  EXPECT_LT(rel_diff(xu, optu), kTol);
}

TEST(FederatedFixedPoints, FedSpeedWithoutPerturbationConvergesToTheMinimiser) {
  const Problem p;
  const Vector opt = true_minimiser(p, p.weights(false));
  const Vector x = run(p,
                       {{"algorithm", "fedspeed"},
                        {"fedspeed-server", "active"},
                        {"fedspeed-alpha", "0"},
                        {"fedspeed-lambda", "2"}},
                       300);
  EXPECT_LT(rel_diff(x, opt), kTol) << "x = " << x.transpose() << "\nopt " << opt.transpose();
  const Vector xs = run(p, {{"algorithm", "fedspeed-sim"}, {"fedspeed-rho", "0"}, {"fedspeed-lambda", "2"}}, 300);
  EXPECT_LT(rel_diff(xs, opt), kTol);
}

TEST(FederatedFixedPoints, FedSpeedWithPerturbationConvergesToTheSamFixedPoint) {
  // With α, ρ > 0 the merged quasi-gradient on a quadratic is g = g1 + αρ A_i g1/‖g1‖ (normalised)
  // or g = (I + αρ A_i) g1 (not normalised), g1 = A_i (y − b_i). At a fixed point of FedSpeed every
  // client stays at x (ĝ_i = g_i(x)) and x = Σ p̃_i (x − λ ĝ_i), so Σ p_i g_i(x) = 0: a point moved
  // away from the minimiser by the perturbation, computed here independently.
  const Problem p;
  const auto w = p.weights(false);
  const double alpha = 0.5, rho = 0.2;
  std::vector<Matrix> A(static_cast<std::size_t>(p.clients));
  std::vector<Vector> b(static_cast<std::size_t>(p.clients));
  for (Index i = 0; i < p.clients; ++i) p.quadratic(i, A[static_cast<std::size_t>(i)], b[static_cast<std::size_t>(i)]);
  // Not normalised: linear, (Σ p_i (I + αρA_i) A_i) x = Σ p_i (I + αρA_i) A_i b_i.
  const Vector expected_lin = weighted_fixed_point(p, w, [&](const Matrix& Ai) {
    return Matrix((Matrix::Identity(Ai.rows(), Ai.cols()) + alpha * rho * Ai) * Ai);
  });
  // Normalised: F(x) = Σ p_i (g_i + αρ A_i g_i/‖g_i‖) = 0, by Newton with a central-difference
  // Jacobian from the minimiser.
  auto F = [&](const Vector& x) {
    Vector f = Vector::Zero(p.dim);
    for (std::size_t i = 0; i < A.size(); ++i) {
      const Vector g = A[i] * (x - b[i]);
      f += w[i] * (g + alpha * rho * A[i] * g / g.norm());
    }
    return f;
  };
  Vector xs = true_minimiser(p, w);
  for (int it = 0; it < 50 && F(xs).norm() > 1e-15; ++it) {
    Matrix J(p.dim, p.dim);
    for (Index j = 0; j < p.dim; ++j) {
      Vector e = Vector::Zero(p.dim);
      e[j] = 1e-6;
      J.col(j) = (F(xs + e) - F(xs - e)) / 2e-6;
    }
    xs -= J.partialPivLu().solve(F(xs));
  }
  ASSERT_LT(F(xs).norm(), 1e-13);
  const Vector opt = true_minimiser(p, w);
  ASSERT_GT(rel_diff(xs, opt), 1e-3);
  ASSERT_GT(rel_diff(expected_lin, opt), 1e-3);

  const std::map<std::string, std::string> base = {{"algorithm", "fedspeed"},
                                                   {"fedspeed-server", "active"},
                                                   {"fedspeed-alpha", "0.5"},
                                                   {"fedspeed-rho", "0.2"},
                                                   {"fedspeed-lambda", "2"}};
  auto with = [&](std::map<std::string, std::string> extra) {
    extra.insert(base.begin(), base.end());
    return extra;
  };
  const Vector x = run(p, with({}), 400);
  EXPECT_LT(rel_diff(x, xs), 1e-9) << "x = " << x.transpose() << "\nexpected " << xs.transpose();
  const Vector xl = run(p, with({{"fedspeed-normalize", "false"}}), 400);
  EXPECT_LT(rel_diff(xl, expected_lin), kTol);
}
