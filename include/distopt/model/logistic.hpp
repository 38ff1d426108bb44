#pragma once
// Binary logistic regression: ℓ(x; a, y) = log(1 + exp(−y aᵀx)), y ∈ {−1, +1} (a label y > 0 is
// the positive class, anything else the negative one, so 0/1 labels work too). No bias.
// With z = aᵀx, t = −y z and σ the sigmoid:
//   ℓ = softplus(t) = max(t, 0) + log1p(exp(−|t|))      (never overflows)
//   ∇ℓ = −y σ(t) a = −y σ(−y z) a
//   ∇²ℓ = σ(z) σ(−z) a aᵀ                                (y² = 1)
// σ(z)σ(−z) ≤ 1/4, so the mean loss is λ_max(AᵀA)/(4n)-smooth.
#include "distopt/model/objective.hpp"

namespace distopt {

/// The binary logistic objective above (--problem logistic).
class Logistic final : public Objective {
 public:
  /// The model on `n_features` features with regulariser `reg`; one block "w" of n_features
  /// coordinates.
  explicit Logistic(Index n_features, Regularization reg = {});

  /// "logistic", the --problem spelling.
  std::string name() const override { return "logistic"; }
  /// One block "w" of n_features coordinates.
  const ParameterLayout& layout() const override { return layout_; }
  double sum_loss(const Vector& x, const DataBlock& rows, Vector* g) const override;
  bool has_hvp() const override { return true; }
  /// ADDS Σ_r ∇²ℓ(x; a_r, y_r) v into out (formula above).
  void sum_hvp(const Vector& x, const Vector& v, const DataBlock& rows, Vector& out) const override;
  /// Rows with sign(aᵀx) = y (aᵀx = 0 predicts the negative class).
  Index sum_correct(const Vector& x, const DataBlock& rows) const override;
  /// λ_max(AᵀA)/(4n) + l2 + 2λ.
  double smoothness(const DataBlock& rows) const override;
  /// max(0, l2 − λ/2): the logistic loss alone is not strongly convex.
  double strong_convexity(const DataBlock& rows) const override;

 private:
  ParameterLayout layout_;
  mutable Vector z_, w_;      // per-chunk margins and weights (scratch)
  mutable Matrix xv_, zu_;    // [x v] (d×2) and [A x, A v] per chunk, for the HVP (scratch)
};

}  // namespace distopt
