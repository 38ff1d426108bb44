// Helpers shared by the bilevel suites: small multitask problems placed over a communicator, an
// HVP-only variant (to force the CG paths through a user-registered problem), central finite
// differences, and the check that an error is a ConfigError naming a given key.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

#include "distopt/bilevel/multitask.hpp"
#include "distopt/bilevel/problem_registry.hpp"
#include "distopt/comm/communicator.hpp"
#include "distopt/core/error.hpp"

namespace distopt::test {

/// A small multitask problem (p = 5, k = 3, 24 training and 20 validation rows per block).
inline MultitaskOptions small_multitask() {
  MultitaskOptions o;
  o.features = 5;
  o.rank = 3;
  o.train_rows = 24;
  o.val_rows = 20;
  o.lower_reg = 0.3;
  o.upper_reg = 0.02;
  o.noise = 0.2;
  return o;
}

/// The problem the method tests run on: p = 6 features, k = 2 (x of dimension 12), 40 training and
/// 40 validation rows per task, λ = 0.5 (μ_i = 0.5), ρ = 0.05, σ = 0.1.
inline MultitaskOptions method_test_multitask() {
  MultitaskOptions o;
  o.features = 6;
  o.rank = 2;
  o.train_rows = 40;
  o.val_rows = 40;
  o.lower_reg = 0.5;
  o.upper_reg = 0.05;
  o.noise = 0.1;
  return o;
}

/// The multitask problem with `m` blocks placed over `comm`'s ranks.
inline std::unique_ptr<MultitaskProblem> multitask_on(Communicator& comm, const MultitaskOptions& o,
                                                      Index m, std::uint64_t seed) {
  return std::make_unique<MultitaskProblem>(o, m, seed, Placement(m, comm.size(), comm.rank()));
}

/// multitask without the full lower Hessian: every solve goes through Hessian-vector products.
class HvpOnlyMultitask : public MultitaskProblem {
 public:
  using MultitaskProblem::MultitaskProblem;
  std::string name() const override { return "test-multitask-hvp"; }
  bool has_lower_hessian() const override { return false; }
};

/// Registers "test-multitask-hvp" once (a user problem, through the public registry).
inline void register_hvp_only() {
  auto& r = bilevel_problem_registry();
  if (r.find("test-multitask-hvp")) return;
  r.add({"test-multitask-hvp", "test-multitask-hvp", "multitask through HVPs only (tests)",
         [](const BilevelProblemArgs& a) -> std::unique_ptr<BilevelProblem> {
           a.no_arg();
           return std::make_unique<HvpOnlyMultitask>(a.options.multitask, a.blocks, a.seed,
                                                     a.placement);
         }});
}

/// Central differences of a scalar function of a vector: ∂φ/∂u_j ≈ (φ(u + h e_j) − φ(u − h
/// e_j))/2h.
inline Vector fd_gradient(const std::function<double(const Vector&)>& phi, const Vector& u,
                          double h) {
  Vector g(u.size());
  Vector up = u;
  for (Index j = 0; j < u.size(); ++j) {
    up[j] = u[j] + h;
    const double fp = phi(up);
    up[j] = u[j] - h;
    const double fm = phi(up);
    up[j] = u[j];
    g[j] = (fp - fm) / (2 * h);
  }
  return g;
}

/// Central differences of a vector function along the direction v: (ψ(u + h v) − ψ(u − h v))/2h.
inline Vector fd_directional(const std::function<Vector(const Vector&)>& psi, const Vector& u,
                             const Vector& v, double h) {
  return (psi(u + h * v) - psi(u - h * v)) / (2 * h);
}

/// ‖a − b‖ / max(‖b‖, tiny).
inline double rel_err(const Vector& a, const Vector& b) {
  return (a - b).norm() / std::max(b.norm(), 1e-300);
}

/// ∇_y g_i(x, y) on `batch` (a helper of expect_oracles_match_fd).
inline Vector grad_y_at(BilevelProblem& p, Index i, const Vector& x, const Vector& y,
                        const SampleBatch& batch) {
  Vector g;
  p.lower(i, x, y, batch, nullptr, &g);
  return g;
}

/// ‖a − b‖ / ‖b‖, or ‖a‖ when b = 0 (an absolute error where the reference vanishes, e.g. ∇_x f of
/// a problem whose f ignores x).
inline double rel_or_abs_err(const Vector& a, const Vector& b) {
  return b.norm() == 0 ? a.norm() : rel_err(a, b);
}

/// Every oracle a BilevelProblem has, on local block `i` at (x, y), against central finite
/// differences with step `h` (errors relative, below `tol`): ∇_x f and ∇_y f on the `upper` rows;
/// ∇_x g, ∇_y g, the HVP along v (the derivative of ∇_y g along v) and the mixed product along v,
/// both as the derivative of ∇_x g along v in y and as ∇_x ⟨∇_y g, v⟩, on the `lower` rows.
/// Returns the mixed product ∇²_xy g · v, for the caller's further checks.
inline Vector expect_oracles_match_fd(BilevelProblem& p, Index i, const Vector& x, const Vector& y,
                                      const Vector& v, const SampleBatch& lower,
                                      const SampleBatch& upper, double h, double tol) {
  const Index dx = p.upper_dim(), dy = p.lower_dim();
  Vector gx, gy;
  p.upper(i, x, y, upper, &gx, &gy);
  EXPECT_EQ(gx.size(), dx);
  EXPECT_EQ(gy.size(), dy);
  EXPECT_LT(rel_or_abs_err(
                gx, fd_gradient(
                        [&](const Vector& u) { return p.upper(i, u, y, upper, nullptr, nullptr); },
                        x, h)),
            tol)
      << "∇_x f, block " << i;
  EXPECT_LT(
      rel_err(gy, fd_gradient(
                      [&](const Vector& u) { return p.upper(i, x, u, upper, nullptr, nullptr); }, y,
                      h)),
      tol)
      << "∇_y f, block " << i;
  p.lower(i, x, y, lower, &gx, &gy);
  EXPECT_EQ(gx.size(), dx);
  EXPECT_LT(rel_or_abs_err(
                gx, fd_gradient(
                        [&](const Vector& u) { return p.lower(i, u, y, lower, nullptr, nullptr); },
                        x, h)),
            tol)
      << "∇_x g, block " << i;
  EXPECT_LT(
      rel_err(gy, fd_gradient(
                      [&](const Vector& u) { return p.lower(i, x, u, lower, nullptr, nullptr); }, y,
                      h)),
      tol)
      << "∇_y g, block " << i;
  auto grad_y = [&](const Vector& u) {
    Vector g;
    p.lower(i, x, u, lower, nullptr, &g);
    return g;
  };
  Vector hv;
  p.lower_hvp(i, x, y, lower, v, hv);
  EXPECT_LT(rel_err(hv, fd_directional(grad_y, y, v, h)), tol) << "HVP, block " << i;
  auto grad_x = [&](const Vector& u) {
    Vector g;
    p.lower(i, x, u, lower, &g, nullptr);
    return g;
  };
  Vector cv;
  p.lower_cross(i, x, y, lower, v, cv);
  EXPECT_EQ(cv.size(), dx);
  EXPECT_LT(rel_err(cv, fd_directional(grad_x, y, v, h)), tol) << "mixed product, block " << i;
  EXPECT_LT(
      rel_err(cv, fd_gradient([&](const Vector& u) { return grad_y_at(p, i, u, y, lower).dot(v); },
                              x, h)),
      tol)
      << "mixed product as ∇_x⟨∇_y g, v⟩, block " << i;
  return cv;
}

/// Expects `f` to throw a ConfigError whose key is `key`.
inline void expect_config_error(const std::function<void()>& f, const std::string& key) {
  try {
    f();
    ADD_FAILURE() << "no error; expected a ConfigError naming --" << key;
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key(), key) << e.what();
  }
}

}  // namespace distopt::test
