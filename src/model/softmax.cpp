#include "distopt/model/softmax.hpp"

#include <algorithm>

#include "distopt/model/gram_spectrum.hpp"
#include "distopt/model/row_chunks.hpp"
#include "softmax_kernels.hpp"
#include "softmax_rows.hpp"

namespace distopt {

using detail::softmax_kernels::chunk_accumulate;
using detail::softmax_kernels::chunk_logits;

Softmax::Softmax(Index n_features, Index n_classes, Regularization reg)
    : Objective(reg), features_(n_features), classes_(n_classes) {
  layout_.add("W", n_classes, n_features);
  layout_.add("b", n_classes);
}

double Softmax::sum_loss(const Vector& x, const DataBlock& rows, Vector* g) const {
  const Index C = classes_;
  chunks::reserve_rows(z_, chunks::max_chunk_rows(rows, 0), C);
  const auto W = layout_.block_matrix(x, 0);
  const auto b = x.segment(layout_.blocks()[1].offset, C);
  const auto y = rows.labels();
  double loss = 0.0;
  chunks::for_each_chunk(rows, 0, [&](Index s, const auto& Xc) {
    const Index c = Xc.rows();
    auto Z = z_.topRows(c);
    chunk_logits(Xc, W, Z);
    Z.rowwise() += b.transpose();
    loss += detail::softmax_xent_rows(Z, y.segment(s, c), g != nullptr);
    if (g) {
      // Z now holds P − Y: G_W += (P − Y)ᵀ X_c, g_b += 1ᵀ(P − Y), while X_c is in cache.
      chunk_accumulate(Xc, Z, layout_.block_matrix(*g, 0));
      g->segment(layout_.blocks()[1].offset, C) += Z.colwise().sum().transpose();
    }
  });
  return loss;
}

void Softmax::sum_hvp(const Vector& x, const Vector& v, const DataBlock& rows, Vector& out) const {
  const Index C = classes_, d = features_;
  const Index ob = layout_.blocks()[1].offset;
  chunks::reserve_rows(u_, chunks::max_chunk_rows(rows, 0), 2 * C);
  if (wv_.rows() != 2 * C || wv_.cols() != d) wv_.resize(2 * C, d);
  wv_.topRows(C) = layout_.block_matrix(x, 0);
  wv_.bottomRows(C) = layout_.block_matrix(v, 0);
  const auto b = x.segment(ob, C);
  const auto vb = v.segment(ob, C);
  auto out_W = layout_.block_matrix(out, 0);
  chunks::for_each_chunk(rows, 0, [&](Index, const auto& Xc) {
    const Index c = Xc.rows();
    auto ZU = u_.topRows(c);
    chunk_logits(Xc, wv_, ZU);  // logits Z and directional logits U = X V_Wᵀ in one product
    for (Index i = 0; i < c; ++i) {
      auto z = ZU.row(i).head(C);
      auto u = ZU.row(i).tail(C);
      z += b.transpose();
      u += vb.transpose();
      const double m = z.maxCoeff();
      double sum = 0.0;
      for (Index j = 0; j < C; ++j) {
        z[j] = std::exp(z[j] - m);
        sum += z[j];
      }
      z *= 1.0 / sum;
      // (diag(p) − p pᵀ) u = p ⊙ u − p (pᵀ u), stored over u.
      const double pu = z.dot(u);
      for (Index j = 0; j < C; ++j) u[j] = z[j] * (u[j] - pu);
    }
    const auto S = ZU.rightCols(C);
    chunk_accumulate(Xc, S, out_W);
    out.segment(ob, C) += S.colwise().sum().transpose();
  });
}

Index Softmax::sum_correct(const Vector& x, const DataBlock& rows) const {
  const Index C = classes_;
  chunks::reserve_rows(z_, chunks::max_chunk_rows(rows, 0), C);
  const auto W = layout_.block_matrix(x, 0);
  const auto b = x.segment(layout_.blocks()[1].offset, C);
  const auto y = rows.labels();
  Index correct = 0;
  chunks::for_each_chunk(rows, 0, [&](Index s, const auto& Xc) {
    auto Z = z_.topRows(Xc.rows());
    chunk_logits(Xc, W, Z);
    Z.rowwise() += b.transpose();
    correct += detail::argmax_correct(Z, y.segment(s, Xc.rows()));
  });
  return correct;
}

double Softmax::smoothness(const DataBlock& rows) const {
  const double data = rows.rows() > 0
                          ? 0.5 * gram_lambda_max(rows, /*append_one=*/true) / static_cast<double>(rows.rows())
                          : 0.0;
  return data + regularization_smoothness(regularization());
}

double Softmax::strong_convexity(const DataBlock& /*rows*/) const {
  return std::max(0.0, regularization_curvature_lower(regularization()));
}

}  // namespace distopt
