#pragma once
// Private helpers of the model layer shared by softmax regression and the MLP output layer:
// per-row softmax cross-entropy on a matrix of logits, label checks, argmax accuracy.
#include <cmath>
#include <string>
#include <type_traits>

#include "distopt/core/error.hpp"
#include "distopt/core/types.hpp"

namespace distopt::detail {

/// The class index of a label, which must be an integer in [0, C).
inline Index class_of(double y, Index C) {
  // Range first (the cast of a huge or NaN label would be undefined), then integrality.
  if (!(y >= 0.0 && y < static_cast<double>(C)) || static_cast<double>(static_cast<Index>(y)) != y) {
    throw InputError("label " + std::to_string(y) + " is not a class in 0.." + std::to_string(C - 1));
  }
  return static_cast<Index>(y);
}

/// For each row i of the logits Z: adds logsumexp(z_i) − z_{i,y_i} to the returned sum and, when
/// `grad`, overwrites z_i with softmax(z_i) − e_{y_i} (= dℓ/dz). Stable: the row max is subtracted
/// before exponentiating. Z may be float or double; the exponentials and the loss are computed in
/// double either way (float32 logits are widened, the softmax rounded back on store).
template <class ZM, class YV>
double softmax_xent_rows(ZM&& Z, const YV& y, bool grad) {
  using S = typename std::decay_t<ZM>::Scalar;
  const Index C = Z.cols();
  double loss = 0.0;
  for (Index i = 0; i < Z.rows(); ++i) {
    const Index k = class_of(y[i], C);
    auto z = Z.row(i);
    const double m = z.maxCoeff();
    const double zy = z[k];
    double sum = 0.0;
    if (grad) {
      for (Index j = 0; j < C; ++j) {
        const double e = std::exp(z[j] - m);
        z[j] = static_cast<S>(e);
        sum += e;
      }
      z *= static_cast<S>(1.0 / sum);
      z[k] -= 1.0;
    } else {
      for (Index j = 0; j < C; ++j) sum += std::exp(z[j] - m);
    }
    loss += std::log(sum) + m - zy;
  }
  return loss;
}

/// Rows whose argmax logit (lowest index on ties) is the label.
template <class ZM, class YV>
Index argmax_correct(const ZM& Z, const YV& y) {
  Index correct = 0;
  for (Index i = 0; i < Z.rows(); ++i) {
    Index best = 0;
    Z.row(i).maxCoeff(&best);
    correct += static_cast<double>(best) == y[i];
  }
  return correct;
}

}  // namespace distopt::detail
