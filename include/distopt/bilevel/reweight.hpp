#pragma once
// `reweight`: per-sample weights learned on a noisy binary pair of Fashion-MNIST, the
// hyper-parameter task of the BSVRB paper (Hu, Qiu, Guo, Zhang, Yang, ICML 2023, §1.3 of
// ../shared/notes/bilevel-anchors.md; the authors' code is `Hyperparameter_Optimization/HO/
// main.py`, run there on LIBSVM a8a/w8a). ALGORITHMS.md §4.
//
// Data. From the source's training split (BilevelProblemOptions::data, default `fmnist`) take the
// rows of the two classes c₀, c₁ (ReweightOptions::classes; c₀ → label −1, c₁ → +1), permute them
// with the stream keyed by the data seed, and let the first n = train_rows be the training rows
// and the next val_rows the validation rows. The two sets are disjoint: the reference code takes
// its validation rows from the end of its training slice, so they overlap; we do not copy that.
// The test rows are every test-split row of the two classes. Each training label is flipped
// independently with probability `noise` (stream keyed by (seed, training row)); validation and
// test labels are clean. A feature row is the image average-pooled by pool×pool (784-feature
// sources only), scaled to unit ℓ2 norm, with a bias feature 1 appended: d = features + 1 (50 at
// pool 4). Every rank holds every row (all blocks share them), so nothing depends on the
// placement.
//
// Variables. x ∈ R^n holds one logit per training row, the row's weight being w_j = σ(x_j) (the
// logistic sigmoid); initial_upper() is zero (every weight 1/2). Block i < m is a logistic
// regression y ∈ R^d at temperature τ_i, log-spaced from temperatures[0] (i = 0) to
// temperatures[1] (i = m − 1; m = 1: temperatures[0]). With the loss
//
//     ℓ(y; a, b, τ) = log(1 + exp(−b yᵀa / τ))                                          (1)
//
// (evaluated as max(t, 0) + log1p(exp(−|t|)), t = −b yᵀa/τ, so it never overflows), the lower and
// upper problems on a batch S of the training / validation rows are
//
//     g_i(x, y) = (1/|S|) Σ_{j∈S} σ(x_j) ℓ(y; a_j, b_j, τ_i) + (λ/2) ‖y‖²               (2)
//     f_i(x, y) = (1/|S|) Σ_{j∈S} ℓ(y; a^v_j, b^v_j, τ_i)                               (3)
//
// so f_i does not depend on x (upper_independent_of_x()) and g_i is λ-strongly convex in y
// (μ_i = λ). With z_j = b_j yᵀa_j / τ_i, s(t) = 1/(1 + e^{−t}) and c_j = −(b_j/τ_i) s(−z_j) =
// ∂ℓ/∂(yᵀa_j), the derivatives are
//
//     ∇_y g_i          = (1/|S|) Σ_j σ(x_j) c_j a_j + λ y                               (4)
//     (∇_x g_i)_j      = (1/|S|) σ'(x_j) ℓ_j                  (summed over j's copies in S)
//     ∇²_yy g_i        = (1/|S|) Σ_j σ(x_j) h_j a_j a_jᵀ + λ I,  h_j = s(z_j) s(−z_j)/τ_i² (5)
//     (∇²_xy g_i v)_j  = (1/|S|) σ'(x_j) c_j a_jᵀv             (summed over j's copies in S)
//
// with σ' = σ(1 − σ). (5) is the true Hessian: the reference code's hess_yy_g carries the factor
// −e/(1 + e)² where +e/(1 + e)² belongs, so its "Hessian" is λI minus a PSD matrix.
// ∇_x g_i and ∇²_xy g_i v are zero outside the batch's rows: lower_sparse() and
// lower_cross_sparse() list them on the batch's distinct rows, sorted (a row drawn twice is one
// entry with both contributions), at cost O(|S| d), never O(n); the dense oracles scatter the
// same entries into R^n.
//
// λ (lower_reg) defaults to 0.01 where the reference uses 1e-5: λ is the strong convexity μ_i of
// every lower problem, so it sets their conditioning: on rows of norm √2 (unit features and the
// bias) the curvature of g_i is at most L = 1/(2τ_i²) + λ, and L/μ = 1/(2λ) + 1 at τ = 1: 5·10⁴
// at the reference's λ, against 51 here. Every lower solver, exact Newton/CG or a method's
// stochastic steps on y_i, needs iterations in proportion, and the problems of this repository
// are meant to be run in minutes.
#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "distopt/bilevel/bilevel_problem.hpp"
#include "distopt/core/types.hpp"

namespace distopt {

/// Typed options of `reweight` (the command-line keys in parentheses; defaults below).
struct ReweightOptions {
  /// c₀, c₁: the two classes of the source, distinct; c₀ → label −1, c₁ → +1
  /// ("reweight-classes", default "0,6" = T-shirt/top vs Shirt on Fashion-MNIST).
  std::array<Index, 2> classes{0, 6};
  /// n: training (lower) rows = the dimension of x, ≥ 1 ("reweight-train-rows", default 2000).
  Index train_rows = 2000;
  /// Validation (upper) rows, ≥ 1 ("reweight-val-rows", default 1000).
  Index val_rows = 1000;
  /// Probability in [0, 1) that a training label is flipped ("reweight-noise", default 0.2).
  double noise = 0.2;
  /// Average-pooling window on the 28×28 images, dividing 28; 1 = raw pixels, and the only value
  /// allowed for sources without 784 features ("reweight-pool", default 4: 49 features).
  Index pool = 4;
  /// τ_0 ≤ τ_{m−1}, both > 0: the temperatures of the first and the last block, log-spaced
  /// between ("reweight-temperatures", default "0.5,2").
  std::array<double, 2> temperatures{0.5, 2.0};
  /// λ > 0: ridge on every y_i, the lower strong convexity ("reweight-lower-reg", default 0.01;
  /// the reference's 1e-5 makes the lower problems ill-conditioned, see the file comment).
  double lower_reg = 0.01;
  /// Throws ConfigError naming the key of the first invalid field (what can be checked without
  /// the data; the constructor checks the rest).
  void validate() const;
};

/// The `reweight` problem (BilevelProblem): every rank holds every row; the oracles serve the
/// blocks of this rank.
class ReweightProblem : public BilevelProblem {
 public:
  /// Opens the source `data` (a --data spec, option "bilevel-data"), selects, corrupts and
  /// featurises the rows (see the file comment) from `seed`. Throws ConfigError naming the key
  /// for invalid options, a source that is not multiclass or lacks a class, too few rows of the
  /// pair ("reweight-train-rows"), pooling a source without 784 features ("reweight-pool"), or
  /// blocks below 1 ("agents"); FileError for unreadable files.
  /// `max_memory` bounds the sizes read from `data`'s files (--max-memory; 0: the default of
  /// data/memory_budget.hpp).
  ReweightProblem(const ReweightOptions& options, const std::string& data, Index blocks,
                  std::uint64_t seed, const Placement& placement, std::uint64_t max_memory = 0);

  /// "reweight".
  std::string name() const override { return "reweight"; }
  /// m.
  Index blocks() const override { return m_; }
  /// n = train_rows.
  Index upper_dim() const override { return train_.a.rows(); }
  /// d = pooled features + 1 (the bias).
  Index lower_dim() const override { return train_.a.cols(); }
  /// The placement given at construction.
  const Placement& placement() const override { return placement_; }
  /// val_rows (every block).
  Index upper_rows(Index /*block*/) const override { return val_.a.rows(); }
  /// train_rows (every block).
  Index lower_rows(Index /*block*/) const override { return train_.a.rows(); }
  /// λ (every block).
  double lower_strong_convexity(Index /*block*/) const override { return o_.lower_reg; }
  /// True: the lower Hessian is d×d.
  bool has_lower_hessian() const override { return true; }
  /// True: f_i (3) is a validation loss of y alone.
  bool upper_independent_of_x() const override { return true; }
  /// True: ∇²_xy g_i v is nonzero on the batch's rows only.
  bool sparse_cross() const override { return true; }

  /// f_i (3); ∇_x f_i = 0 (dense, of n), ∇_y f_i = (1/|S|) Σ_j c_j a^v_j.
  double upper(Index block, const Vector& x, const Vector& y, const SampleBatch& batch,
               Vector* grad_x, Vector* grad_y) override;
  /// g_i (2) and its gradients (4), ∇_x g_i dense of n.
  double lower(Index block, const Vector& x, const Vector& y, const SampleBatch& batch,
               Vector* grad_x, Vector* grad_y) override;
  /// ∇²_yy g_i v (5), by two products with the batch rows.
  void lower_hvp(Index block, const Vector& x, const Vector& y, const SampleBatch& batch,
                 const Vector& v, Vector& out) override;
  /// ∇²_xy g_i v, dense of n (lower_cross_sparse() scattered).
  void lower_cross(Index block, const Vector& x, const Vector& y, const SampleBatch& batch,
                   const Vector& v, Vector& out) override;
  /// ∇²_yy g_i (5) as A_Sᵀ D A_S / |S| + λ I, a symmetric rank-|S| update.
  void lower_hessian(Index block, const Vector& x, const Vector& y, const SampleBatch& batch,
                     Matrix& out) override;
  /// ∇²_xy g_i v on the batch's distinct training rows, sorted; O(|S| d).
  void lower_cross_sparse(Index block, const Vector& x, const Vector& y, const SampleBatch& batch,
                          const Vector& v, IndexedVector& out) override;
  /// g_i with ∇_x g_i on the index set of lower_cross_sparse() and ∇_y g_i dense; O(|S| d).
  double lower_sparse(Index block, const Vector& x, const Vector& y, const SampleBatch& batch,
                      IndexedVector* grad_x, Vector* grad_y) override;

  /// {"test_accuracy", "test_loss", "val_accuracy", "weight_flipped", "weight_clean"}.
  std::vector<std::string> lower_metric_names() const override;
  /// For y of a local block at x: the accuracy of sign(yᵀa) (yᵀa > 0 → +1) on the test rows, the
  /// mean loss (1) on them at the block's temperature, the accuracy on the validation rows, and
  /// the mean weight σ(x_j) over the flipped and over the clean training rows (NaN for an empty
  /// set; the accuracies and test loss are NaN without test rows). The weights show whether the
  /// upper level finds the noise: weight_flipped should fall below weight_clean.
  void evaluate_lower(Index block, const Vector& x, const Vector& y,
                      std::vector<double>& out) override;

  /// τ_i of any block.
  double temperature(Index block) const;
  /// Whether training row j's label was flipped (any j < n).
  bool flipped(Index row) const { return flipped_[static_cast<std::size_t>(row)] != 0; }
  /// The number of test rows (every test-split row of the two classes).
  Index test_rows() const { return test_.a.rows(); }
  /// The options the problem was built with.
  const ReweightOptions& options() const { return o_; }

 private:
  struct Rows {
    RowMatrix a;  // rows × d, each row unit-norm features then 1
    Vector b;     // ±1
  };
  void check_local(Index block) const;
  void check_upper(const Vector& x) const;
  // The rows the batch selects: `rows` itself for all rows, else gathered into scratch_.
  const Rows& select(const Rows& rows, const SampleBatch& batch);
  // For the lower batch: the sorted distinct training rows into `index` and, per batch position
  // q, the entry slot_[q] its contribution goes to.
  void structure(const SampleBatch& batch, std::vector<Index>& index);
  // The training row of batch position q.
  Index row_of(const SampleBatch& batch, Index q) const {
    return batch.all_rows() ? q : batch.rows()[static_cast<std::size_t>(q)];
  }
  // Per position of the selected rows at y and temperature τ: u_ = A y, ell_ (ℓ), coef_ (c).
  void losses(const Rows& rows, const Vector& y, double tau);
  // Fills w_ (σ(x_j)) and, if `derivative`, dw_ (σ'(x_j)) per batch position.
  void weights(const SampleBatch& batch, Index count, const Vector& x, bool derivative);
  double lower_impl(Index block, const Vector& x, const Vector& y, const SampleBatch& batch,
                    IndexedVector* grad_x, Vector* grad_y);
  static void scatter(const IndexedVector& s, Index n, Vector& out);

  ReweightOptions o_;
  Index m_;
  Placement placement_;
  std::vector<double> tau_;             // τ_i of every block
  Rows train_, val_, test_;             // shared by every block
  std::vector<unsigned char> flipped_;  // per training row
  Rows scratch_;
  Vector u_, t_, ell_, coef_, w_, dw_, h_;
  RowMatrix scaled_;
  std::vector<Index> slot_;
  std::vector<std::pair<Index, Index>> order_;
  IndexedVector sparse_;
};

}  // namespace distopt
