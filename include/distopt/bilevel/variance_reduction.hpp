#pragma once
// The estimator updates the stochastic bilevel methods share (ALGORITHMS.md §4; Hu, Qiu, Guo,
// Zhang, Yang, ICML 2023, arXiv 2305.18730, and their code github quanqihu/BSVRB_ICML2023
// `Hyperparameter_Optimization/HO/main.py`):
//
//  * MSVR (multi-block single-probe variance reduction), for a block quantity q evaluated on the
//    SAME minibatch at the current and the previous iterate:
//        e ← (1−α) e + (α+γ) q(current) − γ q(previous)
//    = (1−α) e + α q_new + γ (q_new − q_old): a moving average with a STORM-like correction;
//  * STORM for the upper gradient, z ← (1−β)(z − G_old/I) + G_new/I, written here as
//    z ← (1−β) z + (G_new − (1−β) G_old)/I so that each block sends ONE vector
//    (G_new,i − (1−β) G_old,i) to the sum;
//  * the two projections of the reference code: the norm floor `proj_mat` on the tracked Hessians
//    (‖H‖_F ≥ bound, by rescaling; a norm floor, not a positive-definite projection) and the ball
//    ‖v‖ ≤ R on BSVRB v2's v_i.
#include "distopt/core/types.hpp"

namespace distopt {

/// MSVR on a vector: e ← (1−α) e + (α+γ) q_new − γ q_old (every argument of one size).
void msvr_update(Vector& e, double alpha, double gamma, const Vector& q_new, const Vector& q_old);
/// MSVR on a matrix: E ← (1−α) E + (α+γ) Q_new − γ Q_old (every argument of one shape).
void msvr_update(Matrix& e, double alpha, double gamma, const Matrix& q_new, const Matrix& q_old);
/// STORM: z ← (1−β) z + c / I, where c = Σ_i (G_new,i − (1−β) G_old,i) over the I sampled blocks.
void storm_update(Vector& z, double beta, const Vector& combined, Index sampled);
/// The reference code's `proj_mat`: if ‖H‖_F < bound, H ← (bound/‖H‖_F) H (a zero H becomes
/// (bound/√n) I, where the reference would divide by zero); otherwise H is left alone.
void project_norm_floor(Matrix& h, double bound);
/// Projection onto the ball ‖v‖ ≤ radius: v ← (radius/‖v‖) v when ‖v‖ > radius.
void project_ball(Vector& v, double radius);

}  // namespace distopt
