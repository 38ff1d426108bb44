#pragma once
// A user objective: binary logistic regression, ℓ(x; a, y) = log(1 + exp(−y aᵀx)), y ∈ {−1, +1},
// written outside the library on the public Objective interface and the row-chunk helper
// (distopt/model/row_chunks.hpp). With z = aᵀx, t = −y z and σ the sigmoid:
//   ℓ = softplus(t),  ∇ℓ = −y σ(t) a,  ∇²ℓ = σ(z) σ(−z) a aᵀ  (σ(z)σ(−z) ≤ 1/4).
// It performs the same floating-point operations in the same order as the built-in `logistic`
// (src/model/logistic.cpp), so, compiled with the library's flags, it gives the same bits.
#include <algorithm>
#include <cmath>
#include <memory>
#include <string>

#include "distopt/model/gram_spectrum.hpp"
#include "distopt/model/objective_registry.hpp"
#include "distopt/model/row_chunks.hpp"

namespace user {

using distopt::DataBlock;
using distopt::Index;
using distopt::Matrix;
using distopt::Vector;

class UserLogistic final : public distopt::Objective {
 public:
  UserLogistic(Index n_features, distopt::Regularization reg) : Objective(reg) {
    layout_.add("w", n_features);
  }
  std::string name() const override { return "user-logistic"; }
  const distopt::ParameterLayout& layout() const override { return layout_; }

  // Σ_r ℓ over the rows; adds Σ_r ∇ℓ into *g. One pass over each chunk: z = X_c x, then
  // z becomes dℓ/dz in place and g += X_cᵀ z while the chunk is still in cache.
  double sum_loss(const Vector& x, const DataBlock& rows, Vector* g) const override {
    namespace chunks = distopt::chunks;
    chunks::reserve_rows(z_, chunks::max_chunk_rows(rows, 0));
    const auto y = rows.labels();
    double loss = 0.0;
    chunks::for_each_chunk(rows, 0, [&](Index s, const auto& Xc) {
      const Index c = Xc.rows();
      auto z = z_.head(c);
      z.noalias() = Xc * x;
      for (Index i = 0; i < c; ++i) {
        const double yi = y[s + i] > 0.0 ? 1.0 : -1.0;
        const double t = -yi * z[i];
        loss += softplus(t);
        z[i] = -yi * sigmoid(t);
      }
      if (g) g->noalias() += Xc.transpose() * z;
    });
    return loss;
  }

  // Adds Σ_r σ(z_r)σ(−z_r)(a_rᵀv) a_r: both products X_c [x v] in one pass over the chunk.
  bool has_hvp() const override { return true; }
  void sum_hvp(const Vector& x, const Vector& v, const DataBlock& rows,
               Vector& out) const override {
    namespace chunks = distopt::chunks;
    const Index chunk = chunks::max_chunk_rows(rows, 0);
    chunks::reserve_rows(w_, chunk);
    chunks::reserve_rows(zu_, chunk, 2);
    if (xv_.rows() != x.size() || xv_.cols() != 2) xv_.resize(x.size(), 2);
    xv_.col(0) = x;
    xv_.col(1) = v;
    chunks::for_each_chunk(rows, 0, [&](Index, const auto& Xc) {
      const Index c = Xc.rows();
      auto zu = zu_.topRows(c);
      zu.noalias() = Xc * xv_;
      auto w = w_.head(c);
      for (Index i = 0; i < c; ++i) w[i] = sigmoid(zu(i, 0)) * sigmoid(-zu(i, 0)) * zu(i, 1);
      out.noalias() += Xc.transpose() * w;
    });
  }

  Index sum_correct(const Vector& x, const DataBlock& rows) const override {
    namespace chunks = distopt::chunks;
    chunks::reserve_rows(z_, chunks::max_chunk_rows(rows, 0));
    const auto y = rows.labels();
    Index correct = 0;
    chunks::for_each_chunk(rows, 0, [&](Index s, const auto& Xc) {
      auto z = z_.head(Xc.rows());
      z.noalias() = Xc * x;
      for (Index i = 0; i < z.size(); ++i) correct += (z[i] > 0.0) == (y[s + i] > 0.0);
    });
    return correct;
  }

  // L = λ_max(AᵀA)/(4n) + the regulariser's; μ = the regulariser's (the loss alone is not
  // strongly convex). Methods with theoretical step sizes read these.
  double smoothness(const DataBlock& rows) const override {
    const double data =
        rows.rows() > 0 ? 0.25 * distopt::gram_lambda_max(rows) / static_cast<double>(rows.rows())
                        : 0.0;
    return data + distopt::regularization_smoothness(regularization());
  }
  double strong_convexity(const DataBlock&) const override {
    return std::max(0.0, distopt::regularization_curvature_lower(regularization()));
  }

 private:
  static double softplus(double t) { return std::max(t, 0.0) + std::log1p(std::exp(-std::abs(t))); }
  static double sigmoid(double t) {
    if (t >= 0.0) return 1.0 / (1.0 + std::exp(-t));
    const double e = std::exp(t);
    return e / (1.0 + e);
  }

  distopt::ParameterLayout layout_;
  mutable Vector z_, w_;    // per-chunk scratch, reused by every call
  mutable Matrix xv_, zu_;  // [x v] and X_c [x v] for the HVP
};

/// Adds `user-logistic` to the --problem registry: after this, --problem user-logistic, INI files
/// and ObjectiveOptions{.problem = "user-logistic"} build it.
inline void register_user_logistic() {
  distopt::objective_registry().add(
      {"user-logistic", "user-logistic", "binary logistic regression (examples/custom_objective)",
       [](const distopt::ObjectiveArgs& a) -> std::unique_ptr<distopt::Objective> {
         a.no_arg();
         if (a.task != distopt::Task::kBinary) throw a.misfit("binary +-1 labels");
         return std::make_unique<UserLogistic>(a.n_features, a.reg);
       }});
}

}  // namespace user
