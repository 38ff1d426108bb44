#pragma once
// `multitask`: synthetic multi-task hyper-representation with squared loss, the bilevel family's
// ground truth (ALGORITHMS.md §4, problem (a); ../shared/notes/bilevel-anchors.md §4.4). Every
// quantity has a closed form, so the exact hypergradient and each stochastic estimator can be
// checked against it.
//
// The upper variable is a shared linear representation W ∈ R^{p×k}, stored in x row-major
// (W(j, c) = x[j k + c]). Block (task) i has a ridge head y ∈ R^k on n_i training rows (A_i, b_i)
// and n_v validation rows (A_i^v, b_i^v), all generated from a planted model
//
//     a ~ N(0, I_p),   b = aᵀ W* θ_i + σ ε,   W*(j, c) ~ N(0, 1/p),  θ_i(c) ~ N(0, 1/k),  ε ~ N(0,
//     1)
//
// (so the noise-free signal has unit variance). Lower and upper losses, means over a batch S of
// the block's training / validation rows:
//
//     g_i(x, y) = (1/(2|S|)) ‖A_S W y − b_S‖² + (λ/2) ‖y‖²        λ > 0: μ_i = λ
//     f_i(x, y) = (1/(2|S|)) ‖A^v_S W y − b^v_S‖² + (ρ/2) ‖W‖²_F   ρ ≥ 0
//
// Why ρ: F is invariant under W → W Q for orthogonal Q and, without ρ, can decrease forever by
// inflating W (the ridge on y then vanishes in effect), so its infimum need not be attained.
// With ρ > 0 (default 1e-3) F ≥ (ρ/2)‖W‖² is coercive and has minimisers (a family of them, one
// per rotation Q); ρ = 0 is allowed. Note that W = 0 is a stationary point of F (y* = 0 there),
// which is why initial_upper() is random.
//
// Every row comes from its own counter-based stream keyed by (seed, block, row) (core/random.hpp),
// so any rank can generate any block's rows and the data never depend on the rank count; each
// rank generates only its own blocks, each block into its own buffers (identical memory layout,
// hence identical bits, at any rank count).
#include <cstdint>
#include <vector>

#include "distopt/bilevel/bilevel_problem.hpp"
#include "distopt/core/types.hpp"

namespace distopt {

/// Typed options of `multitask` (the command-line keys in parentheses; defaults below).
struct MultitaskOptions {
  /// p: feature dimension, ≥ 1 ("multitask-features", default 20).
  Index features = 20;
  /// k: rank of the shared representation = lower dimension, ≥ 1 ("multitask-rank", default 5).
  Index rank = 5;
  /// n_i: training (lower) rows per block, ≥ 1 ("multitask-train-rows", default 100).
  Index train_rows = 100;
  /// n_v: validation (upper) rows per block, ≥ 1 ("multitask-val-rows", default 100).
  Index val_rows = 100;
  /// λ > 0: ridge on the heads y_i, the strong convexity of g_i ("bilevel-lower-reg",
  /// default 0.1).
  double lower_reg = 0.1;
  /// ρ ≥ 0: ridge on W in every f_i ("bilevel-upper-reg", default 1e-3).
  double upper_reg = 1e-3;
  /// σ ≥ 0: standard deviation of the label noise ("multitask-noise", default 0.1).
  double noise = 0.1;
  /// Throws ConfigError naming the key of the first invalid field.
  void validate() const;
};

/// The `multitask` problem for the blocks of one rank (BilevelProblem), with the closed forms of
/// its lower solutions.
class MultitaskProblem : public BilevelProblem {
 public:
  /// Generates the rows of this rank's blocks (`placement`'s local agents) from `seed`; throws
  /// ConfigError naming the key when `options` are invalid or blocks is below 1 ("agents").
  MultitaskProblem(const MultitaskOptions& options, Index blocks, std::uint64_t seed,
                   const Placement& placement);

  /// "multitask".
  std::string name() const override { return "multitask"; }
  /// m.
  Index blocks() const override { return m_; }
  /// p k.
  Index upper_dim() const override { return p_ * k_; }
  /// k.
  Index lower_dim() const override { return k_; }
  /// The placement given at construction.
  const Placement& placement() const override { return placement_; }
  /// n_v (every block).
  Index upper_rows(Index /*block*/) const override { return o_.val_rows; }
  /// n_i (every block).
  Index lower_rows(Index /*block*/) const override { return o_.train_rows; }
  /// λ (every block).
  double lower_strong_convexity(Index /*block*/) const override { return o_.lower_reg; }
  /// True: the lower Hessian is k×k.
  bool has_lower_hessian() const override { return true; }

  /// f_i and its gradients (see the file comment).
  double upper(Index block, const Vector& x, const Vector& y, const SampleBatch& batch,
               Vector* grad_x, Vector* grad_y) override;
  /// g_i and its gradients.
  double lower(Index block, const Vector& x, const Vector& y, const SampleBatch& batch,
               Vector* grad_x, Vector* grad_y) override;
  /// `(1/|S|) Wᵀ A_Sᵀ A_S W v + λ v`.
  void lower_hvp(Index block, const Vector& x, const Vector& y, const SampleBatch& batch,
                 const Vector& v, Vector& out) override;
  /// `(1/|S|) [A_Sᵀ r vᵀ + A_Sᵀ A_S W v yᵀ]` flattened row-major, r = A_S W y − b_S.
  void lower_cross(Index block, const Vector& x, const Vector& y, const SampleBatch& batch,
                   const Vector& v, Vector& out) override;
  /// `(1/|S|) (A_S W)ᵀ (A_S W) + λ I` (independent of y).
  void lower_hessian(Index block, const Vector& x, const Vector& y, const SampleBatch& batch,
                     Matrix& out) override;
  /// W with entries N(0, 1/p) from the stream (seed, model init): away from the stationary
  /// point W = 0.
  Vector initial_upper(std::uint64_t seed) const override;

  /// The exact lower solution y_i*(x) on all training rows of a local block:
  /// `((A W)ᵀ A W / n_i + λ I) y = (A W)ᵀ b / n_i`, by Cholesky.
  Vector lower_solution(Index block, const Vector& x) const;
  /// f_i(x, y_i*(x)) on all validation rows of a local block (the block's term of F).
  double upper_at_solution(Index block, const Vector& x);
  /// The planted task vector θ_i of any block (regenerated from the seed).
  Vector task_vector(Index block) const;
  /// The planted representation W* (regenerated from the seed), flattened row-major.
  Vector planted_representation() const;
  /// The options the problem was built with.
  const MultitaskOptions& options() const { return o_; }

 private:
  struct Rows {
    RowMatrix a;  // n × p
    Vector b;
  };
  struct Block {
    Rows train, val;
  };
  const Block& local(Index block) const;
  // The rows the batch selects: the block's own storage for all rows, else gathered into scratch.
  const Rows& select(const Rows& rows, const SampleBatch& batch, Rows& scratch) const;
  double loss_and_grads(const Rows& rows, const Vector& x, const Vector& y, double y_reg,
                        double w_reg, Vector* grad_x, Vector* grad_y);

  MultitaskOptions o_;
  Index m_, p_, k_;
  std::uint64_t seed_;
  Placement placement_;
  std::vector<Block> blocks_;  // local blocks
  Rows scratch_;
  Vector u_, z_, s_, t_;
};

}  // namespace distopt
