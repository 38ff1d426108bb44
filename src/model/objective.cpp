// The compositions every method uses (mean loss + regulariser) and the default virtuals of
// Objective. The --problem factory is in objective_registry.cpp.
#include "distopt/model/objective.hpp"

#include "distopt/core/error.hpp"

namespace distopt {

void Objective::sum_hvp(const Vector& /*x*/, const Vector& /*v*/, const DataBlock& /*rows*/,
                        Vector& /*out*/) const {
  throw Error(name() + " has no Hessian-vector product");
}

double Objective::regularizer(const Vector& x, Vector* g) const {
  return regularization_value(reg_, x, g);
}

void Objective::regularizer_hvp(const Vector& x, const Vector& v, Vector& out) const {
  regularization_hvp(reg_, x, v, out);
}

Vector Objective::initial_point(std::uint64_t /*seed*/) const { return Vector::Zero(dim()); }

// An empty block has no mean loss: f_B is then R alone (its loss term is taken as 0).
double Objective::loss(const Vector& x, const DataBlock& rows) const {
  const double s = rows.rows() > 0 ? sum_loss(x, rows, nullptr) / static_cast<double>(rows.rows()) : 0.0;
  return s + regularizer(x, nullptr);
}

double Objective::loss_grad(const Vector& x, const DataBlock& rows, Vector& g) const {
  g.setZero(dim());
  double s = 0.0;
  if (rows.rows() > 0) {
    s = sum_loss(x, rows, &g);
    const double inv = 1.0 / static_cast<double>(rows.rows());
    s *= inv;
    g *= inv;
  }
  return s + regularizer(x, &g);
}

void Objective::hvp(const Vector& x, const Vector& v, const DataBlock& rows, Vector& out) const {
  if (!has_hvp()) throw Error(name() + " has no Hessian-vector product");
  out.setZero(dim());
  if (rows.rows() > 0) {
    sum_hvp(x, v, rows, out);
    out *= 1.0 / static_cast<double>(rows.rows());
  }
  regularizer_hvp(x, v, out);
}

}  // namespace distopt
