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
