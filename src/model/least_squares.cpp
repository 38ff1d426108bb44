#include "distopt/model/least_squares.hpp"

#include <algorithm>

#include "distopt/model/gram_spectrum.hpp"
#include "distopt/model/row_chunks.hpp"

namespace distopt {

LeastSquares::LeastSquares(Index n_features, Regularization reg) : Objective(reg) {
  layout_.add("x", n_features);
}

double LeastSquares::sum_loss(const Vector& x, const DataBlock& rows, Vector* g) const {
  chunks::reserve_rows(r_, chunks::max_chunk_rows(rows, 0));
  const auto y = rows.labels();
  double loss = 0.0;
  chunks::for_each_chunk(rows, 0, [&](Index s, const auto& Xc) {
    auto r = r_.head(Xc.rows());
    r.noalias() = Xc * x;
    r -= y.segment(s, Xc.rows());
    loss += 0.5 * r.squaredNorm();
    // Second product while the chunk is still in cache: one pass over X from memory.
    if (g) g->noalias() += Xc.transpose() * r;
  });
  return loss;
}

void LeastSquares::sum_hvp(const Vector& /*x*/, const Vector& v, const DataBlock& rows,
                           Vector& out) const {
  chunks::reserve_rows(r_, chunks::max_chunk_rows(rows, 0));
  chunks::for_each_chunk(rows, 0, [&](Index, const auto& Xc) {
    auto r = r_.head(Xc.rows());
    r.noalias() = Xc * v;
    out.noalias() += Xc.transpose() * r;
  });
}

Index LeastSquares::sum_correct(const Vector& x, const DataBlock& rows) const {
  if (rows.task() != Task::kBinary) return -1;
  chunks::reserve_rows(r_, chunks::max_chunk_rows(rows, 0));
  const auto y = rows.labels();
  Index correct = 0;
  chunks::for_each_chunk(rows, 0, [&](Index s, const auto& Xc) {
    auto z = r_.head(Xc.rows());
    z.noalias() = Xc * x;
    for (Index i = 0; i < z.size(); ++i) correct += (z[i] > 0.0) == (y[s + i] > 0.0);
  });
  return correct;
}

double LeastSquares::smoothness(const DataBlock& rows) const {
  const double data = rows.rows() > 0 ? gram_lambda_max(rows) / static_cast<double>(rows.rows()) : 0.0;
  return data + regularization_smoothness(regularization());
}

double LeastSquares::strong_convexity(const DataBlock& rows) const {
  const double data = rows.rows() > 0 ? gram_lambda_min(rows) / static_cast<double>(rows.rows()) : 0.0;
  return std::max(0.0, data + regularization_curvature_lower(regularization()));
}

}  // namespace distopt
