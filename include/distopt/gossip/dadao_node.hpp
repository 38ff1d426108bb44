#pragma once
// One DADAO node: its six vectors, the time of its last event, and the two jumps of the method
// (ALGORITHMS.md §3). Every formula is written so that a node's new state depends only on its own
// state and on the partner's message y+z, in the same floating-point order whether the partner
// lives on this rank or another: that is what makes runs bitwise identical at any rank count.
#include "distopt/core/types.hpp"
#include "distopt/gossip/dadao_ode.hpp"

namespace distopt {

/// One DADAO node's state P (6 x d) and last event time, with the method's flow and jumps.
class DadaoNode {
 public:
  DadaoNode() = default;
  /// x = x0, the five other vectors 0, last event at time 0.
  DadaoNode(Index id, const Vector& x0);

  Index id() const { return id_; }               ///< the node (agent) id
  double last_event() const { return t_last_; }  ///< t_last: time the state was integrated to
  /// Row r of the state (see DadaoRow).
  auto row(int r) const { return P_.row(r); }
  const RowMatrix& state() const { return P_; }  ///< P = [x; x̃; y; ỹ; z; z̃], 6 x d
  /// Checkpoint restore.
  void restore(double t_last, const RowMatrix& P);

  /// P ← exp(M (t − t_last)) P; t_last ← t. Requires t ≥ t_last.
  void integrate(double t, const DadaoOde& ode);
  /// x at time t ≥ t_last, without changing the state (for evaluation at round boundaries).
  void x_at(double t, const DadaoOde& ode, Eigen::Ref<Vector> out) const;

  /// Gradient event (after integrate): r = g − ν x − ỹ; x −= w γ r, x̃ −= w γ̃ r, ỹ += w (δ + δ̃) r.
  /// w = 1 is the method. w = 1/rate ("rate compensation" of a slow clock, --rate-compensation on)
  /// is NOT stable: ỹ += (δ + δ̃) r with δ̃ = 1 resets ỹ to ∇f_i(x) − ν x, so r already measures
  /// everything accumulated since the node's previous gradient event and the plain jump already
  /// covers the whole gap between events; w = 4 turns the reset into ỹ ← −3ỹ + 4(∇f_i − ν x) and
  /// the run diverges (mpi_tests/test_gossip_dadao.cpp, HeterogeneousGradientRates).
  void gradient_jump(const Vector& g, const DadaoConstants& c, double w = 1.0);
  /// The message this node sends on a communication event: y + z.
  void message(Eigen::Ref<Vector> out) const;
  /// Communication event (after integrate): m = own − other (own = this node's y+z);
  /// z −= β m, z̃ −= β̃ m.
  void comm_jump(const Eigen::Ref<const Vector>& own, const Eigen::Ref<const Vector>& other,
                 const DadaoConstants& c);
  /// The message y+z of the state carried by the linear flow alone to time t (t may be before
  /// t_last: the flow run backwards), without changing the state. Wall-clock exchanges use it to
  /// evaluate both ends' messages at the same time (wall_clock_engine.hpp).
  void message_at(double t, const DadaoOde& ode, Eigen::Ref<Vector> out) const;
  /// The same jump, made `age` time units ago and carried to now by the linear flow: the state
  /// gains exp(M·age)·ΔP, with ΔP zero except Δz = −β m, Δz̃ = −β̃ m. Wall-clock exchanges use it
  /// so that both ends jump "at the same time" and Σ z, Σ z̃ stay balanced. A negative age is a
  /// jump due −age time units AFTER t_last: integrating past that time turns it into the plain
  /// jump made then (age 0: plain jump).
  void comm_jump_aged(const Eigen::Ref<const Vector>& own, const Eigen::Ref<const Vector>& other,
                      const DadaoConstants& c, const DadaoOde& ode, double age);

 private:
  Index id_ = 0;
  double t_last_ = 0;
  RowMatrix P_;        // 6 x d, row-major: every vector contiguous
  RowMatrix scratch_;  // 6 x d
  Vector r_;
};

}  // namespace distopt
