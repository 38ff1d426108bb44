#include "distopt/model/logistic.hpp"

#include <algorithm>
#include <cmath>

#include "distopt/core/logistic_math.hpp"
#include "distopt/model/gram_spectrum.hpp"
#include "distopt/model/row_chunks.hpp"

namespace distopt {
namespace {

inline double sign_label(double y) { return y > 0.0 ? 1.0 : -1.0; }

}  // namespace

Logistic::Logistic(Index n_features, Regularization reg) : Objective(reg) {
  layout_.add("w", n_features);
}

double Logistic::sum_loss(const Vector& x, const DataBlock& rows, Vector* g) const {
  chunks::reserve_rows(z_, chunks::max_chunk_rows(rows, 0));
  const auto y = rows.labels();
  double loss = 0.0;
  chunks::for_each_chunk(rows, 0, [&](Index s, const auto& Xc) {
    const Index c = Xc.rows();
    auto z = z_.head(c);
    z.noalias() = Xc * x;
    // z becomes the derivative dℓ/dz = −y σ(−y z) in place.
    for (Index i = 0; i < c; ++i) {
      const double yi = sign_label(y[s + i]);
      const double t = -yi * z[i];
      loss += softplus(t);
      z[i] = -yi * sigmoid(t);
    }
    if (g) g->noalias() += Xc.transpose() * z;
  });
  return loss;
}

void Logistic::sum_hvp(const Vector& x, const Vector& v, const DataBlock& rows, Vector& out) const {
  const Index d = x.size();
  const Index chunk = chunks::max_chunk_rows(rows, 0);
  chunks::reserve_rows(w_, chunk);
  chunks::reserve_rows(zu_, chunk, 2);
  if (xv_.rows() != d || xv_.cols() != 2) xv_.resize(d, 2);
  xv_.col(0) = x;
  xv_.col(1) = v;
  chunks::for_each_chunk(rows, 0, [&](Index, const auto& Xc) {
    const Index c = Xc.rows();
    auto zu = zu_.topRows(c);
    zu.noalias() = Xc * xv_;  // both products in one pass over the chunk
    auto w = w_.head(c);
    for (Index i = 0; i < c; ++i) {
      // σ(z)σ(−z) rather than p(1 − p): no cancellation when |z| is large.
      w[i] = sigmoid(zu(i, 0)) * sigmoid(-zu(i, 0)) * zu(i, 1);
    }
    out.noalias() += Xc.transpose() * w;
  });
}

Index Logistic::sum_correct(const Vector& x, const DataBlock& rows) const {
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

double Logistic::smoothness(const DataBlock& rows) const {
  const double data =
      rows.rows() > 0 ? 0.25 * gram_lambda_max(rows) / static_cast<double>(rows.rows()) : 0.0;
  return data + regularization_smoothness(regularization());
}

double Logistic::strong_convexity(const DataBlock& /*rows*/) const {
  return std::max(0.0, regularization_curvature_lower(regularization()));
}

}  // namespace distopt
