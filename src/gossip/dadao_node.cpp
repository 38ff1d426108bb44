#include "distopt/gossip/dadao_node.hpp"

#include "distopt/core/error.hpp"

namespace distopt {

DadaoNode::DadaoNode(Index id, const Vector& x0) : id_(id) {
  P_.setZero(6, x0.size());
  P_.row(kX) = x0.transpose();
  scratch_.setZero(6, x0.size());
  r_.setZero(x0.size());
}

void DadaoNode::restore(double t_last, const RowMatrix& P) {
  if (P.rows() != 6 || P.cols() != P_.cols()) throw InputError("checkpoint: DADAO node state has the wrong shape");
  t_last_ = t_last;
  P_ = P;
}

void DadaoNode::integrate(double t, const DadaoOde& ode) {
  if (t < t_last_) throw Error("DadaoNode::integrate: event time goes backwards");
  if (t == t_last_) return;
  const Matrix6 E = ode.propagator(t - t_last_);
  // scratch.row(r) = Σ_k E(r,k) P.row(k), summed left to right: one fixed expression per row, so
  // every coordinate is computed by the same sequence of operations on every rank.
  for (int r = 0; r < 6; ++r) {
    scratch_.row(r) = E(r, 0) * P_.row(0) + E(r, 1) * P_.row(1) + E(r, 2) * P_.row(2) +
                      E(r, 3) * P_.row(3) + E(r, 4) * P_.row(4) + E(r, 5) * P_.row(5);
  }
  P_.swap(scratch_);
  t_last_ = t;
}

void DadaoNode::x_at(double t, const DadaoOde& ode, Eigen::Ref<Vector> out) const {
  if (t <= t_last_) {
    out = P_.row(kX).transpose();
    return;
  }
  const Matrix6 E = ode.propagator(t - t_last_);
  out = (E(kX, 0) * P_.row(0) + E(kX, 1) * P_.row(1) + E(kX, 2) * P_.row(2) + E(kX, 3) * P_.row(3) +
         E(kX, 4) * P_.row(4) + E(kX, 5) * P_.row(5))
            .transpose();
}

void DadaoNode::message_at(double t, const DadaoOde& ode, Eigen::Ref<Vector> out) const {
  if (t == t_last_) {
    message(out);
    return;
  }
  const Matrix6 E = ode.propagator(t - t_last_);
  out = ((E(kY, 0) + E(kZ, 0)) * P_.row(0) + (E(kY, 1) + E(kZ, 1)) * P_.row(1) +
         (E(kY, 2) + E(kZ, 2)) * P_.row(2) + (E(kY, 3) + E(kZ, 3)) * P_.row(3) +
         (E(kY, 4) + E(kZ, 4)) * P_.row(4) + (E(kY, 5) + E(kZ, 5)) * P_.row(5))
            .transpose();
}

void DadaoNode::gradient_jump(const Vector& g, const DadaoConstants& c, double w) {
  r_ = g - c.nu * P_.row(kX).transpose() - P_.row(kYt).transpose();
  P_.row(kX) -= (w * c.gamma) * r_.transpose();
  P_.row(kXt) -= (w * c.gamma_t) * r_.transpose();
  P_.row(kYt) += (w * (c.delta + c.delta_t)) * r_.transpose();
}

void DadaoNode::message(Eigen::Ref<Vector> out) const {
  out = (P_.row(kY) + P_.row(kZ)).transpose();
}

void DadaoNode::comm_jump(const Eigen::Ref<const Vector>& own, const Eigen::Ref<const Vector>& other,
                          const DadaoConstants& c) {
  r_ = own - other;
  P_.row(kZ) -= c.beta * r_.transpose();
  P_.row(kZt) -= c.beta_t * r_.transpose();
}

void DadaoNode::comm_jump_aged(const Eigen::Ref<const Vector>& own, const Eigen::Ref<const Vector>& other,
                               const DadaoConstants& c, const DadaoOde& ode, double age) {
  if (age == 0) {
    comm_jump(own, other, c);
    return;
  }
  r_ = own - other;
  const Matrix6 E = ode.propagator(age);
  for (int row = 0; row < 6; ++row) {
    const double k = -(E(row, kZ) * c.beta + E(row, kZt) * c.beta_t);
    if (k != 0) P_.row(row) += k * r_.transpose();
  }
}

}  // namespace distopt
