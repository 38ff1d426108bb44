#pragma once
// The multi-block bilevel problem (ALGORITHMS.md §4; Hu, Qiu, Guo, Zhang, Yang, ICML 2023,
// arXiv 2305.18730):
//
//     min_x F(x) = (1/m) Σ_{i<m} f_i(x, y_i*(x)),   y_i*(x) = argmin_y g_i(x, y),
//
// with one upper variable x shared by every block (replicated on every rank) and one lower
// variable y_i per block, each g_i(x, ·) strongly convex. The hypergradient of block i is
// `∇_x f_i − ∇²_xy g_i [∇²_yy g_i]⁻¹ ∇_y f_i` at `y_i*(x)`.
//
// Blocks are agents: a Placement puts them on ranks and each rank holds only its own blocks' data
// (the oracles below throw for a block this rank does not hold). What every method needs about
// the other blocks (row counts, strong-convexity bounds, dimensions) is metadata every rank
// knows. Each block has two sets of rows: the *upper* (validation) rows f_i is evaluated on and
// the *lower* (training) rows g_i is evaluated on; an oracle call names a SampleBatch of one of
// them.
//
// Convention: every loss and derivative is the **mean** over the batch of the per-sample terms
// plus the block's regularisers (added once, not averaged), like Objective::loss_grad. So a
// minibatch value is an unbiased estimate of the full-batch one, and the full-batch value is
// f_i / g_i itself. Outputs are assigned (resized), never accumulated.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "distopt/comm/placement.hpp"
#include "distopt/core/types.hpp"

namespace distopt {

/// The rows an oracle call is evaluated on: every row of the block (the default) or a list of
/// sample indices into the block's upper or lower rows. The indices are not copied: the span must
/// outlive the call.
class SampleBatch {
 public:
  /// Every row of the block.
  SampleBatch() = default;
  /// The rows `rows` (indices in [0, rows of the block); duplicates count twice; not empty).
  explicit SampleBatch(std::span<const Index> rows) : rows_(rows), all_(false) {}
  /// Every row of the block (the same as the default constructor, spelled out).
  static SampleBatch all() { return SampleBatch(); }
  /// True for "every row of the block".
  bool all_rows() const { return all_; }
  /// The sample indices (empty for all_rows()).
  std::span<const Index> rows() const { return rows_; }
  /// The number of rows the mean is over, given the block's row count.
  Index size(Index block_rows) const {
    return all_ ? block_rows : static_cast<Index>(rows_.size());
  }

 private:
  std::span<const Index> rows_;
  bool all_ = true;
};

/// A vector of `upper_dim()` given by its structural nonzeros: `value[k]` is the entry at
/// coordinate `index[k]`; indices strictly increasing; every other entry is zero. Entries listed
/// may be zero (the index set is structural, see BilevelProblem::lower_cross_sparse).
struct IndexedVector {
  std::vector<Index> index;   ///< coordinates, strictly increasing
  std::vector<double> value;  ///< the entries at `index`
  /// Number of entries listed.
  Index size() const { return static_cast<Index>(index.size()); }
  /// Removes every entry (keeps the buffers).
  void clear() {
    index.clear();
    value.clear();
  }
};

/// A multi-block bilevel problem: the oracles of f_i and g_i for the blocks this rank holds.
///
/// Derivative conventions (x of dimension `upper_dim()`, y of dimension `lower_dim()`):
/// ∇_x, ∇_y are gradients; `∇²_yy g` is the `lower_dim()`×`lower_dim()` Hessian in y;
/// `∇²_xy g` is the `upper_dim()`×`lower_dim()` matrix of mixed second derivatives ∂²g/∂x∂y, so
/// `∇²_xy g · v` (v of dimension `lower_dim()`) is the gradient in x of `⟨∇_y g(x, y), v⟩`.
///
/// Implementations keep scratch buffers: one object must not be used from two threads at once.
class BilevelProblem {
 public:
  virtual ~BilevelProblem() = default;

  /// The problem's name as registered ("multitask").
  virtual std::string name() const = 0;
  /// m, the number of blocks (equals placement().agents()).
  virtual Index blocks() const = 0;
  /// The dimension of the shared upper variable x.
  virtual Index upper_dim() const = 0;
  /// The dimension of every block's lower variable y_i.
  virtual Index lower_dim() const = 0;
  /// The blocks over the ranks; this rank holds the blocks in
  /// `[placement().local_first(), placement().end(placement().rank()))`.
  virtual const Placement& placement() const = 0;
  /// The number of upper (validation) rows of block `block` (any block, not only local ones).
  virtual Index upper_rows(Index block) const = 0;
  /// The number of lower (training) rows of block `block` (any block, not only local ones).
  virtual Index lower_rows(Index block) const = 0;
  /// μ_i > 0: a lower bound on the strong convexity of g_i(x, ·) over every x and every batch
  /// (any block). validate_bilevel_problem() rejects a problem where it is not positive.
  virtual double lower_strong_convexity(Index block) const = 0;
  /// True when lower_hessian() is available (the lower dimension is small enough to form the
  /// `lower_dim()`×`lower_dim()` matrix).
  virtual bool has_lower_hessian() const { return false; }

  /// f_i(x, y) on `batch` of the upper rows of a local block; fills `grad_x` (∇_x f_i, of
  /// `upper_dim()`) and `grad_y` (∇_y f_i, of `lower_dim()`) unless null.
  virtual double upper(Index block, const Vector& x, const Vector& y, const SampleBatch& batch,
                       Vector* grad_x, Vector* grad_y) = 0;
  /// g_i(x, y) on `batch` of the lower rows of a local block; fills `grad_x` (∇_x g_i) and
  /// `grad_y` (∇_y g_i) unless null.
  virtual double lower(Index block, const Vector& x, const Vector& y, const SampleBatch& batch,
                       Vector* grad_x, Vector* grad_y) = 0;
  /// out = ∇²_yy g_i(x, y) · v on `batch` of the lower rows (a Hessian–vector product).
  virtual void lower_hvp(Index block, const Vector& x, const Vector& y, const SampleBatch& batch,
                         const Vector& v, Vector& out) = 0;
  /// out = ∇²_xy g_i(x, y) · v on `batch` of the lower rows: the mixed (Jacobian) product, a
  /// vector of `upper_dim()`.
  virtual void lower_cross(Index block, const Vector& x, const Vector& y, const SampleBatch& batch,
                           const Vector& v, Vector& out) = 0;
  /// out = ∇²_yy g_i(x, y) on `batch` of the lower rows, when has_lower_hessian(); the default
  /// throws Error.
  virtual void lower_hessian(Index block, const Vector& x, const Vector& y,
                             const SampleBatch& batch, Matrix& out);

  /// True when no f_i depends on x (∇_x f_i ≡ 0, as in hyper-parameter problems whose upper loss
  /// is a validation loss of y alone); methods may then skip ∇_x f_i. Default false.
  virtual bool upper_independent_of_x() const { return false; }
  /// True when ∇²_xy g_i · v on a batch is nonzero on a small part of x only (per-sample weights:
  /// the batch's rows), so that methods should use lower_cross_sparse() and aggregate block
  /// contributions sparsely. Default false.
  virtual bool sparse_cross() const { return false; }
  /// out = ∇²_xy g_i(x, y) · v on `batch` of the lower rows, as an IndexedVector. The index set
  /// must be STRUCTURAL: a function of (block, batch) only, never of x, y or v, so two products on
  /// the same batch have the same indices (the methods combine them entrywise). The default calls
  /// lower_cross() and lists every coordinate.
  virtual void lower_cross_sparse(Index block, const Vector& x, const Vector& y,
                                  const SampleBatch& batch, const Vector& v, IndexedVector& out);

  /// g_i(x, y) on `batch` like lower(), with ∇_x g_i as an IndexedVector on the SAME structural
  /// index set as lower_cross_sparse() on that batch (unless `grad_x` is null) and ∇_y g_i into
  /// `grad_y` (unless null). The default calls lower() and lists every coordinate.
  virtual double lower_sparse(Index block, const Vector& x, const Vector& y,
                              const SampleBatch& batch, IndexedVector* grad_x, Vector* grad_y);

  /// Names of the quality measures evaluate_lower() reports for a lower variable (for example
  /// "test_accuracy"), identical on every rank; default none. The bilevel metrics report their
  /// mean over the blocks.
  virtual std::vector<std::string> lower_metric_names() const { return {}; }
  /// The measures named by lower_metric_names(), in that order, of the lower variable `y` of a
  /// local block at upper variable `x`, into `out` (resized). Default: nothing.
  virtual void evaluate_lower(Index block, const Vector& x, const Vector& y,
                              std::vector<double>& out);

  /// The initial upper variable, identical on every rank (default: zeros).
  virtual Vector initial_upper(std::uint64_t seed) const;
  /// The initial lower variable of a block (default: zeros).
  virtual Vector initial_lower(Index block) const;
};

/// Checks what every method relies on, identically on every rank: blocks() ≥ 1 and equal to the
/// placement's agents, positive dimensions, at least one upper and one lower row per block, and
/// μ_i > 0 and finite for every block. Throws ConfigError("bilevel-problem", ...) naming the block
/// otherwise (a lower problem that is not strongly convex is an input error).
void validate_bilevel_problem(const BilevelProblem& problem);

/// Throws Error naming `problem` unless `a` and `b` (two sparse oracle results on one batch) have
/// the same index set, as the structural contract of lower_cross_sparse() and lower_sparse()
/// requires.
void check_same_support(const BilevelProblem& problem, const IndexedVector& a,
                        const IndexedVector& b);

/// Counts of oracle calls, each on one batch of one block ("one block-gradient on a batch" = 1,
/// whatever the batch size).
struct OracleCounts {
  std::uint64_t gradients = 0;  ///< upper() and lower() calls that asked for a gradient
  std::uint64_t hvps = 0;       ///< lower_hvp() calls
  std::uint64_t cross = 0;      ///< lower_cross() calls (Jacobian products)
  std::uint64_t hessians = 0;   ///< lower_hessian() calls
  /// Adds the other counts.
  OracleCounts& operator+=(const OracleCounts& o) {
    gradients += o.gradients;
    hvps += o.hvps;
    cross += o.cross;
    hessians += o.hessians;
    return *this;
  }
};

}  // namespace distopt
