#pragma once
// Softmax (multinomial logistic) regression with C classes: parameters W (C×d, the layout block
// "W", row-major) and b (C, block "b"); labels y ∈ {0, …, C−1}. For a row a with logits
// z = W a + b and p = softmax(z):
//   ℓ = logsumexp(z) − z_y                       (computed with the max subtracted)
//   ∇_W ℓ = (p − e_y) aᵀ,   ∇_b ℓ = p − e_y
//   ∇²ℓ = (diag(p) − p pᵀ) ⊗ ã ãᵀ,  ã = (a, 1)   (in the (W, b) coordinates)
// Over a chunk of rows these are thin matrix products: Z = X Wᵀ + 1 bᵀ, G_W += (P − Y)ᵀ X
// (dense rows: the kernels of src/model/softmax_kernels.hpp; CSR rows: Eigen's sparse products).
// Smoothness: diag(p) − ppᵀ ≼ ½ I (Böhning 1992: it is ≼ ½(I − 11ᵀ/C)), hence
//   ∇²f ≼ ½ I_C ⊗ (ÃᵀÃ/n)  and  L = ½ λ_max(ÃᵀÃ)/n with Ã = [A 1].
#include "distopt/model/objective.hpp"

namespace distopt {

/// The softmax objective above (--problem softmax).
class Softmax final : public Objective {
 public:
  /// The model on `n_features` features and `n_classes` classes with regulariser `reg`.
  Softmax(Index n_features, Index n_classes, Regularization reg = {});

  /// "softmax", the --problem spelling.
  std::string name() const override { return "softmax"; }
  /// Blocks "W" (n_classes × n_features, row-major) and "b" (n_classes).
  const ParameterLayout& layout() const override { return layout_; }
  /// Number of classes C.
  Index n_classes() const { return classes_; }
  double sum_loss(const Vector& x, const DataBlock& rows, Vector* g) const override;
  bool has_hvp() const override { return true; }
  /// ADDS Σ_r ∇²ℓ(x; a_r, y_r) v into out (formula above, in the (W, b) coordinates).
  void sum_hvp(const Vector& x, const Vector& v, const DataBlock& rows, Vector& out) const override;
  /// Rows whose argmax logit (lowest index on ties) is the label.
  Index sum_correct(const Vector& x, const DataBlock& rows) const override;
  /// ½ λ_max([A 1]ᵀ[A 1])/n + l2 + 2λ.
  double smoothness(const DataBlock& rows) const override;
  /// max(0, l2 − λ/2): softmax is invariant to adding a vector to every class, so not strongly
  /// convex by itself.
  double strong_convexity(const DataBlock& rows) const override;

 private:
  ParameterLayout layout_;
  Index features_, classes_;
  mutable RowMatrix z_, u_;  // per-chunk logits / directional logits (scratch)
  mutable RowMatrix wv_;     // [W; V_W] (2C×d), for the HVP (scratch)
};

}  // namespace distopt
