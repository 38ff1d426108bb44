#pragma once
// `stocbio`: stocBiO, the stochastic bilevel optimiser of Ji, Yang, Liang, "Bilevel Optimization:
// Convergence Analysis and Enhanced Design", ICML 2021, arXiv 2010.07962 (ALGORITHMS.md §4, the
// single-block baseline), run block by block: a double-loop method with a Neumann-series
// estimate of the inverse lower Hessian, no variance reduction. Written after the paper's
// Algorithm 2 (stocBiO) with its Algorithm 3 (the stochastic Neumann series) and the benchmark
// implementation (benchopt/benchmark_bilevel solvers/stocbio.py, benchmark_utils/
// hessian_approximation.py `shia`).
//
// Iteration k (1-based) samples I blocks; each sampled block i, on batches of its own, does:
//
//   y_i ← y_i − α ∇_y g_i(x, y_i)                          D times (warm start: the block's y_i)
//   (q, p) = (∇_x f_i, ∇_y f_i)(x, y_i)                    on one batch of the upper rows
//   v_0 = p,  v_{j+1} = v_j − η ∇²_yy g_i(x, y_i) v_j,  v = η Σ_{j=0..Q} v_j    (Q HVPs)
//   d_i = q − ∇²_xy g_i(x, y_i) v                          on one more batch of the lower rows
//
// and x ← x − β (1/I) Σ_{sampled i} d_i. So v = η Σ_{j≤Q} (I − η H)^j p ≈ H⁻¹ p when η L < 1
// (the truncated Neumann series of (η H)⁻¹ η), each factor on a fresh batch as in Algorithm 3.
// The paper's ordering (the D inner steps at the current x BEFORE the estimate) is followed; the
// benchmark runs the same steps after the x update plus D before the first iteration, which is
// the same sequence of operations up to that first warm-up. Unsampled blocks keep their y_i
// (they catch up with D steps when next sampled).
//
// Batches: block i's sampler iterations (k−1)(D+Q+2) + 1 .. k(D+Q+2) (BlockSampler::batch), in
// the order D inner steps, the upper batch (the upper rows of the next one), Q Neumann steps and
// the mixed product: every step has rows of its own, and everything is a function of
// (seed, k, i), independent of the placement.
//
// Defaults are the benchmark's: α = η = β = 0.1 (its one `step_size` with outer_ratio 1),
// D = Q = 10. The blocks' contributions are summed like every bilevel method's (AgentSum, or
// SparseAgentSum when the problem's mixed products are sparse; Reduction::kOrdered is bitwise the
// same at any rank count) and counted as logical traffic: the contribution up, x down. Per-block
// state (y_i, oracle counts) is saved under StateArchive::agent_key(i, "stocbio/..."), the
// replicated x and the last direction under "stocbio/x", "stocbio/direction". Resume is exact.
#include <cstdint>
#include <string>
#include <vector>

#include "distopt/bilevel/bilevel_metrics.hpp"
#include "distopt/bilevel/bilevel_problem.hpp"
#include "distopt/bilevel/block_contributions.hpp"
#include "distopt/bilevel/block_sampler.hpp"
#include "distopt/bilevel/exact_hypergradient.hpp"
#include "distopt/bilevel/exact_hypergradient_descent.hpp"
#include "distopt/method/algorithm.hpp"

namespace distopt {

/// Typed options of Stocbio (the command-line keys in parentheses; see the file comment).
struct StocbioOptions {
  /// β ≥ 0: the step on x ("lr"; default 0.1); 0 freezes x.
  double lr = 0.1;
  /// α > 0: the step of the D inner steps on y ("stocbio-inner-lr", default 0.1).
  double inner_lr = 0.1;
  /// D ≥ 0: inner steps per sampled block and iteration ("stocbio-inner-steps", default 10).
  Index inner_steps = 10;
  /// η > 0: the Neumann step; the series converges when η L_g < 2 ("stocbio-neumann-lr",
  /// default 0.1).
  double neumann_lr = 0.1;
  /// Q ≥ 0: Neumann terms beyond the first, one HVP each ("stocbio-neumann-steps", default 10).
  Index neumann_steps = 10;
  /// I and B ("blocks-per-iter", default 10; "block-batch", default 32; 0 = every row).
  BlockSamplerOptions sampler{};
  /// The exact solves of the evaluation metrics only ("bilevel-solver", "bilevel-cg-tol", ...).
  HypergradientSolveOptions solve{};
  /// Throws ConfigError naming the key of the first invalid field.
  void validate() const;
};

/// stocBiO on the multi-block problem (an Algorithm; model() is x). See the file comment.
class Stocbio : public Algorithm {
 public:
  /// Validates the options and the problem (ConfigError naming the key) and checks that the
  /// problem's placement is over ctx.comm's ranks.
  Stocbio(BilevelContext ctx, const StocbioOptions& options);

  /// "stocbio".
  std::string name() const override { return "stocbio"; }
  /// x = x0 (identical on every rank), y_i = problem.initial_lower(i).
  void initialize(const Vector& x0) override;
  /// Iteration `round` (≥ 1). Collective.
  void step(std::int64_t round) override;
  /// x.
  const Vector& model() const override { return x_; }
  /// Gradient oracle calls of this rank's blocks so far.
  std::uint64_t local_grad_evals() const override;
  /// Collective: the exact metrics of bilevel_exact_metrics() at x with the blocks' y_i, and
  /// "estimate_error_sq" ‖d − ∇F(x)‖² (d: the last step's direction), and the phase times
  /// (PhaseTimes). Changes no state.
  void extra_metrics(MetricRow& row) override;
  /// x, the last direction and each local block's y_i and counts.
  void save(StateArchive& out) const override;
  /// The state save() wrote (any rank count); InputError for missing or mismatched state.
  void load(const StateArchive& in) override;

  /// The last step's direction (1/I) Σ d_i, the estimate of ∇F at the x before that step.
  const Vector& direction() const { return dir_; }
  /// This rank's blocks' lower variables y_i, in placement order.
  std::vector<Vector> local_lower() const;
  /// The oracle calls of this rank's blocks so far (summed over them).
  OracleCounts local_counts() const;
  /// The options in use (validated).
  const StocbioOptions& options() const { return o_; }

 private:
  struct BlockState {
    Vector y;
    OracleCounts counts{};
  };
  void block_update(Index block, BlockState& b, std::int64_t round, Vector& d, IndexedVector& ds);

  PhaseTimes times_;  // this process's wall time per phase (bilevel_metrics.hpp)
  BilevelContext ctx_;
  StocbioOptions o_;
  BlockSampler sampler_;
  // The sampled blocks' directions, sparse when uses_sparse_contributions(problem).
  BlockContributions contributions_{ctx_.comm, ctx_.reduction,
                                    uses_sparse_contributions(ctx_.problem)};
  bool sparse_ = contributions_.sparse();
  Vector x_, dir_;
  std::vector<BlockState> blocks_;
  BlockBatch batch_;
  Vector gy_, fx_, fy_, v_, term_, hv_, cross_;
};

}  // namespace distopt
