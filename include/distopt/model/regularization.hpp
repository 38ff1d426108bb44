#pragma once
// The regulariser every model can add to its mean loss:
//   R(x) = (l2/2) ‖x‖² + λ Σ_j x_j²/(1 + x_j²)
// The second term is the nonconvex regulariser of the EF21 experiments (Richtárik et al.,
// arXiv 2106.05203, λ = 0.1 there). Per coordinate, with φ(t) = t²/(1+t²):
//   φ'(t)  = 2t/(1+t²)²,
//   φ''(t) = (2 − 6t²)/(1+t²)³ ∈ [−1/2, 2]   (maximum 2 at t = 0, minimum −1/2 at t² = 1),
// so R is (l2 + 2λ)-smooth and (l2 − λ/2)-strongly convex when that is positive.
// R applies to the whole parameter vector, biases included.
#include "distopt/core/types.hpp"

namespace distopt {

/// Regularisation shared by the models: (l2/2)‖x‖² + λ Σ_j x_j²/(1+x_j²) (EF21 experiments).
struct Regularization {
  double l2 = 0.0;         ///< weight l2 of the L2 term (--l2)
  double nonconvex = 0.0;  ///< weight λ of the nonconvex term (--nonconvex-reg)
  /// Whether R is not identically zero.
  bool active() const { return l2 != 0.0 || nonconvex != 0.0; }
};

/// R(x); if g is non-null, ADDS ∇R(x) into *g.
double regularization_value(const Regularization& reg, const Vector& x, Vector* g);
/// ADDS ∇²R(x) v into out (∇²R is diagonal).
void regularization_hvp(const Regularization& reg, const Vector& x, const Vector& v, Vector& out);
/// Upper bound on the smoothness constant of R: l2 + 2λ.
double regularization_smoothness(const Regularization& reg);
/// Lower bound on the curvature of R: l2 − λ/2 (may be negative: R is then not convex).
double regularization_curvature_lower(const Regularization& reg);

}  // namespace distopt
