#pragma once
// The scalar functions of the logistic loss, written so that they never overflow: shared by the
// logistic model (model/logistic.cpp) and the bilevel problems with logistic weights or losses
// (bilevel/reweight.cpp, bilevel/hyperclean.cpp).
#include <algorithm>
#include <cmath>

namespace distopt {

/// softplus(t) = log(1 + e^t), as max(t, 0) + log1p(e^{−|t|}): no overflow, no cancellation.
inline double softplus(double t) {
  return std::max(t, 0.0) + std::log1p(std::exp(-std::abs(t)));
}

/// σ(t) = 1 / (1 + e^{−t}), exponentiating only non-positive numbers.
inline double sigmoid(double t) {
  if (t >= 0.0) return 1.0 / (1.0 + std::exp(-t));
  const double e = std::exp(t);
  return e / (1.0 + e);
}

/// σ'(t) = σ(t) σ(−t) = e^{−|t|} / (1 + e^{−|t|})², the logistic curvature.
inline double sigmoid_curvature(double t) {
  const double e = std::exp(-std::abs(t));
  return e / ((1.0 + e) * (1.0 + e));
}

}  // namespace distopt
