#include "distopt/bilevel/variance_reduction.hpp"

#include <cmath>

namespace distopt {

void msvr_update(Vector& e, double alpha, double gamma, const Vector& q_new, const Vector& q_old) {
  e = (1 - alpha) * e + (alpha + gamma) * q_new - gamma * q_old;
}

void msvr_update(Matrix& e, double alpha, double gamma, const Matrix& q_new, const Matrix& q_old) {
  e = (1 - alpha) * e + (alpha + gamma) * q_new - gamma * q_old;
}

void storm_update(Vector& z, double beta, const Vector& combined, Index sampled) {
  z = (1 - beta) * z + combined / static_cast<double>(sampled);
}

void project_norm_floor(Matrix& h, double bound) {
  const double norm = h.norm();  // Frobenius
  if (norm >= bound) return;
  if (norm == 0) {
    h = Matrix::Identity(h.rows(), h.cols()) * (bound / std::sqrt(static_cast<double>(h.rows())));
    return;
  }
  h *= bound / norm;
}

void project_ball(Vector& v, double radius) {
  const double norm = v.norm();
  if (norm > radius) v *= radius / norm;
}

}  // namespace distopt
