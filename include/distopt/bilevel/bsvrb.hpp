#pragma once
// `bsvrb1` and `bsvrb2`: the blockwise stochastic variance-reduced methods of Hu, Qiu, Guo, Zhang,
// Yang, "Blockwise Stochastic Variance-Reduced Methods with Parallel Speedup for Multi-Block
// Bilevel Optimization", ICML 2023, arXiv 2305.18730 (ALGORITHMS.md §4). Written after the
// reference code github quanqihu/BSVRB_ICML2023 `Hyperparameter_Optimization/HO/main.py` (the
// paper's algorithm boxes were not available; ../shared/notes/bilevel-anchors.md §1.2).
//
// Iteration t (1-based) samples I blocks and B rows per sampled block and level (BlockSampler: a
// pure function of (seed, t), so nothing about sampling is checkpointed). For every sampled block
// i, on ONE batch, at the current point (x_t, y_{i,t}) and at the previous one (x_{t−1}, y_{i,t−1})
// (both kept; "cur" and "prev" below):
//
//   s_i ← MSVR(s_i; ∇_y g_i(cur), ∇_y g_i(prev))                       (estimates ∇_y g_i)
//   v1: H_i' = Π_floor(MSVR(H_i; ∇²_yy g_i(cur), ∇²_yy g_i(prev)))      (estimates ∇²_yy g_i)
//       G_new,i = ∇_x f_i(cur) − ∇²_xy g_i(cur) H_{i,t}⁻¹ ∇_y f_i(cur)
//       G_old,i = ∇_x f_i(prev) − ∇²_xy g_i(prev) H_{i,t−1}⁻¹ ∇_y f_i(prev)
//   v2: u_i ← MSVR(u_i; ∇²_yy g_i(cur) v_{i,t} − ∇_y f_i(cur), same at prev with v_{i,t−1})
//       G_new,i = ∇_x f_i(cur) − ∇²_xy g_i(cur) v_{i,t},  G_old,i likewise at prev with v_{i,t−1}
//
// with MSVR(e; q_new, q_old) = (1−α) e + (α+γ) q_new − γ q_old (bilevel/variance_reduction.hpp).
// Then the lower variables:
//   v1: EVERY block (sampled or not, with its possibly stale s_i): y_i ← y_i − τ s_i;
//   v2: only the sampled blocks, with the catch-up factor d_i = 1 + (iterations since block i was
//       last sampled): y_i ← y_i − τ d_i s_i,  v_i ← Π_{‖v‖≤R}(v_i − τ_v d_i u_i);
// and the upper variable by STORM: z ← (1−β)(z − G_old/I) + G_new/I, x ← x − η z, where G_new and
// G_old sum the sampled blocks of every rank. Each sampled block contributes ONE vector
// G_new,i − (1−β) G_old,i of dim(x) to an AgentSum (comm/agent_sum.hpp; each rank adds its
// sampled blocks in increasing order, so Reduction::kOrdered gives the same bits at any rank
// count), counted as dim(x) doubles of logical uplink traffic per sampled block.
//
// Where the reference code, ALGORITHMS.md and this implementation meet or part:
//  * The ∇_x f_i terms: the reference's f does not depend on x and omits them; ALGORITHMS.md
//    adds them "where f depends on x"; here they are always included (zero when f ignores x).
//  * G_new uses the Hessian estimate H_{i,t} from BEFORE this iteration's MSVR update (and G_old
//    H_{i,t−1}), as the reference code does; ALGORITHMS.md leaves the index open.
//  * The Hessian "projection" is the reference's `proj_mat`, a Frobenius-norm FLOOR
//    (‖H‖_F ≥ H_bound by rescaling), not a positive-definite projection. It biases the estimate
//    whenever the true ‖∇²_yy g_i‖_F is below H_bound (the default 10 is the reference's, tuned
//    for its logistic blocks); any true Hessian has ‖·‖_F ≥ μ_i √dim(y), so a floor below that is
//    harmless. H_i⁻¹ is applied by an LU solve (the reference's np.linalg.inv: H need not be
//    symmetric under the random start).
//  * v1 steps every block's y_i (reference code and ALGORITHMS.md agree); v2 only sampled ones.
//  * The start (BsvrbInit): the reference code draws every estimator (s_i, u_i, H_i, z), v_i and
//    the "previous" iterates of the first iteration (x_0, y_{i,0}, v_{i,0}, H_{i,0}) uniformly in
//    [0, 1), entrywise; kReference does the same from counter-based streams keyed by (seed, block),
//    while x_1 = x0 and y_{i,1} = problem.initial_lower(i) come from the framework (the reference
//    draws those at random too). The DEFAULT departs from the reference here: kZero starts with
//    previous iterate = current one, s_i = u_i = v_i = z = 0 and H_i = H_{i,0} = μ_i I (then
//    floored), so the first corrections vanish and nothing random enters. Why: the MSVR update at
//    a random previous point, (1−α) H + (α+γ) ∇²g(cur) − γ ∇²g(random point), is easily indefinite
//    and nearly singular, and v1 inverts it; on the tests' multitask problem with I = 3, B = 7 the
//    reference start makes bsvrb1 diverge (NaN) where the zero start converges.
//  * τ_v = 0 means τ_v = τ, as in the reference's argparse.
//
// Per-block state lives on the block's rank and goes into checkpoints under
// StateArchive::agent_key(i, "bsvrb/..."): y_i, y_{i,t−1}, s_i, H_i and H_{i,t−1} (v1) or v_i,
// v_{i,t−1}, u_i (v2), the iterations since last sampled, the oracle counts. The replicated x,
// x_{t−1} and z are saved under "bsvrb/x", "bsvrb/x_prev", "bsvrb/z". Resume is exact, at any
// rank count.
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

/// Which BSVRB variant (see the file comment).
enum class BsvrbVersion {
  kV1,  ///< `bsvrb1`: MSVR-tracked lower Hessians, inverted (small lower dimension)
  kV2,  ///< `bsvrb2`: Hessian–vector products only, v_i by SGD, lazy catch-up
};

/// How the estimators and the previous iterate of the first iteration start.
enum class BsvrbInit {
  kZero,       ///< "zero": previous = current, estimators 0, H_i = μ_i I (the default)
  kReference,  ///< "reference": uniform [0, 1) entries, as the reference code
};
/// "reference" | "zero"; ConfigError("bsvrb-init") otherwise.
BsvrbInit bsvrb_init_from_string(const std::string& s);
/// The name bsvrb_init_from_string() reads.
const char* to_string(BsvrbInit init);

/// Typed options of Bsvrb (the command-line keys in parentheses). The defaults are the reference
/// code's (HO/main.py and its run_BSVRBv1.sh / run_BSVRBv2.sh scripts), except `init`.
struct BsvrbOptions {
  /// The variant (no key: it is the --algorithm name, "bsvrb1" or "bsvrb2"; default v1).
  BsvrbVersion version = BsvrbVersion::kV1;
  /// η ≥ 0: the step on x ("lr", default 1e-3); 0 freezes x (the estimate then converges to
  /// ∇F at that x).
  double lr = 1e-3;
  /// α in (0, 1]: the MSVR weight ("bsvrb-alpha", default 0.9).
  double alpha = 0.9;
  /// γ ≥ 0: the MSVR correction ("bsvrb-gamma", default 1).
  double gamma = 1.0;
  /// β in (0, 1]: the STORM weight ("bsvrb-beta", default 0.9).
  double beta = 0.9;
  /// τ ≥ 0: the step on every y_i ("bsvrb-tau"); 0 (default) means the reference scripts' value
  /// for the version, 0.5 for v1 and 1 for v2 (effective_tau()).
  double tau = 0.0;
  /// τ_v ≥ 0: the step on v_i, v2 only ("bsvrb-tau-v"); 0 (default) means τ (effective_tau_v()).
  double tau_v = 0.0;
  /// H_bound > 0: the Frobenius-norm floor of the tracked Hessians, v1 only
  /// ("bsvrb-hessian-bound", default 10; see the file comment on its bias).
  double hessian_bound = 10.0;
  /// R > 0: the radius of the ball v_i is projected on, v2 only ("bsvrb-v-bound", default 10).
  double v_bound = 10.0;
  /// The start of the estimators ("bsvrb-init", default zero; see the file comment).
  BsvrbInit init = BsvrbInit::kZero;
  /// I and B ("blocks-per-iter", default 10; "block-batch", default 32; 0 = every row).
  BlockSamplerOptions sampler{};
  /// The exact solves of the evaluation metrics only ("bilevel-solver", "bilevel-cg-tol", ...).
  HypergradientSolveOptions solve{};

  /// τ with the version's default applied.
  double effective_tau() const;
  /// τ_v with its default (τ) applied.
  double effective_tau_v() const;
  /// Throws ConfigError naming the key of the first invalid field.
  void validate() const;
};

/// BSVRB v1 or v2 (an Algorithm; model() is x). See the file comment.
class Bsvrb : public Algorithm {
 public:
  /// Validates the options and the problem (ConfigError naming the key: I > m and B larger than a
  /// block are rejected here) and checks that the problem's placement is over ctx.comm's ranks.
  /// v1 needs the lower Hessian (ConfigError("algorithm") if the problem does not form it).
  Bsvrb(BilevelContext ctx, const BsvrbOptions& options);

  /// "bsvrb1" or "bsvrb2".
  std::string name() const override;
  /// x = x0 (identical on every rank), y_i = problem.initial_lower(i), the estimators and the
  /// previous iterate as options.init says.
  void initialize(const Vector& x0) override;
  /// Iteration `round` (≥ 1; the sampler's iteration). Collective.
  void step(std::int64_t round) override;
  /// x.
  const Vector& model() const override { return x_; }
  /// Gradient oracle calls (upper() and lower() with a gradient) of this rank's blocks so far.
  std::uint64_t local_grad_evals() const override;
  /// Collective: the exact "upper_value"/"loss", "hypergrad_norm_sq"/"grad_norm_sq",
  /// "lower_residual", "hvp_evals", "jvp_evals", "hessian_evals" (bilevel/bilevel_metrics.hpp),
  /// and "estimate_error_sq" ‖z − ∇F(x)‖² (z is the last step's estimate, made at the x before
  /// that step's update), and the phase times "time_block_kernels", "time_aggregation",
  /// "time_steps" (PhaseTimes). Does not change the method's state.
  void extra_metrics(MetricRow& row) override;
  /// The replicated x, x_{t−1}, z and each local block's state (see the file comment).
  void save(StateArchive& out) const override;
  /// The state save() wrote (any rank count); InputError for missing or mismatched state.
  void load(const StateArchive& in) override;

  /// z, the STORM estimate of ∇F(x) made by the last step.
  const Vector& estimate() const { return z_; }
  /// This rank's blocks' lower variables y_i, in placement order.
  std::vector<Vector> local_lower() const;
  /// The oracle calls of this rank's blocks so far (summed over them).
  OracleCounts local_counts() const;
  /// The options in use (validated).
  const BsvrbOptions& options() const { return o_; }

 private:
  struct BlockState {
    Vector y, y_prev, s;
    Matrix h, h_prev;         // v1
    Vector v, v_prev, u;      // v2
    std::uint64_t delay = 0;  // iterations since last sampled
    OracleCounts counts{};
  };
  // The block's contribution G_new,i − (1−β) G_old,i into `contribution` (dense) or `sparse`.
  void block_update(Index block, BlockState& b, std::int64_t round, Vector& contribution,
                    IndexedVector& sparse);
  void apply_inverse(const Matrix& h, const Vector& rhs, Vector& out) const;

  PhaseTimes times_;  // this process's wall time per phase (bilevel_metrics.hpp)
  BilevelContext ctx_;
  BsvrbOptions o_;
  // The sampled blocks' contributions, sparse when uses_sparse_contributions(problem).
  BlockContributions contributions_{ctx_.comm, ctx_.reduction,
                                    uses_sparse_contributions(ctx_.problem)};
  bool sparse_ = contributions_.sparse();
  IndexedVector cs_new_, cs_old_;
  BlockSampler sampler_;
  Vector x_, x_prev_, z_;
  Vector combined_;  // this iteration's sum of the sampled blocks' contributions (kept: no
                     // allocation per iteration)
  std::vector<BlockState> blocks_;   // local blocks, placement order
  std::vector<Matrix> h_next_;       // v1: this iteration's H_i' of the sampled local blocks
  std::vector<char> sampled_local_;  // this iteration: is local block l sampled
  BlockBatch batch_;
  Vector gy_new_, gy_old_, fx_new_, fx_old_, fy_new_, fy_old_, w_new_, w_old_, c_new_, c_old_;
  Matrix hess_new_, hess_old_;
};

}  // namespace distopt
