#pragma once
// Least squares: ℓ(x; a, y) = ½ (aᵀx − y)², on dense or CSR rows, no bias (append a constant
// feature to the data if one is wanted). Per block of rows B with residual r = A_B x − y_B:
//   Σ ℓ = ½ ‖r‖²,   Σ ∇ℓ = A_Bᵀ r,   Σ ∇²ℓ v = A_Bᵀ A_B v.
// The mean loss has Hessian AᵀA/n, so L = λ_max(AᵀA)/n and μ = λ_min(AᵀA)/n exactly.
#include "distopt/model/objective.hpp"

namespace distopt {

/// The least-squares objective above (--problem least-squares).
class LeastSquares final : public Objective {
 public:
  /// The model on `n_features` features with regulariser `reg`; one block "x" of n_features
  /// coordinates.
  explicit LeastSquares(Index n_features, Regularization reg = {});

  /// "least-squares", the --problem spelling.
  std::string name() const override { return "least-squares"; }
  /// One block "x" of n_features coordinates.
  const ParameterLayout& layout() const override { return layout_; }
  double sum_loss(const Vector& x, const DataBlock& rows, Vector* g) const override;
  bool has_hvp() const override { return true; }
  /// ADDS Σ_r ∇²ℓ(x; a_r, y_r) v into out (formula above).
  void sum_hvp(const Vector& x, const Vector& v, const DataBlock& rows, Vector& out) const override;
  /// Binary labels (±1): rows whose sign(aᵀx) matches y; regression: -1.
  Index sum_correct(const Vector& x, const DataBlock& rows) const override;
  /// λ_max(AᵀA)/n + l2 + 2λ.
  double smoothness(const DataBlock& rows) const override;
  /// λ_min(AᵀA)/n + l2 − λ/2 when computable (see gram_spectrum.hpp), never below 0.
  double strong_convexity(const DataBlock& rows) const override;

 private:
  ParameterLayout layout_;
  mutable Vector r_;  // per-chunk residuals (scratch)
};

}  // namespace distopt
