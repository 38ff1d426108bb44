#include "distopt/bilevel/bilevel_problem.hpp"

#include <cmath>
#include <string>

#include "distopt/core/error.hpp"

namespace distopt {

void BilevelProblem::lower_hessian(Index /*block*/, const Vector& /*x*/, const Vector& /*y*/,
                                   const SampleBatch& /*batch*/, Matrix& /*out*/) {
  throw Error("bilevel problem '" + name() + "' does not form the lower Hessian (lower dimension " +
              std::to_string(lower_dim()) + "); use Hessian-vector products");
}

void BilevelProblem::lower_cross_sparse(Index block, const Vector& x, const Vector& y,
                                        const SampleBatch& batch, const Vector& v,
                                        IndexedVector& out) {
  Vector dense;
  lower_cross(block, x, y, batch, v, dense);
  out.index.resize(static_cast<std::size_t>(dense.size()));
  out.value.assign(dense.data(), dense.data() + dense.size());
  for (Index j = 0; j < dense.size(); ++j) out.index[static_cast<std::size_t>(j)] = j;
}

double BilevelProblem::lower_sparse(Index block, const Vector& x, const Vector& y,
                                    const SampleBatch& batch, IndexedVector* grad_x,
                                    Vector* grad_y) {
  if (!grad_x) return lower(block, x, y, batch, nullptr, grad_y);
  Vector dense;
  const double g = lower(block, x, y, batch, &dense, grad_y);
  grad_x->index.resize(static_cast<std::size_t>(dense.size()));
  grad_x->value.assign(dense.data(), dense.data() + dense.size());
  for (Index j = 0; j < dense.size(); ++j) grad_x->index[static_cast<std::size_t>(j)] = j;
  return g;
}

void BilevelProblem::evaluate_lower(Index /*block*/, const Vector& /*x*/, const Vector& /*y*/,
                                    std::vector<double>& out) {
  out.clear();
}

Vector BilevelProblem::initial_upper(std::uint64_t /*seed*/) const {
  return Vector::Zero(upper_dim());
}

Vector BilevelProblem::initial_lower(Index /*block*/) const {
  return Vector::Zero(lower_dim());
}

void check_same_support(const BilevelProblem& problem, const IndexedVector& a,
                        const IndexedVector& b) {
  if (a.index != b.index || a.value.size() != a.index.size() || b.value.size() != b.index.size()) {
    throw Error("bilevel problem '" + problem.name() +
                "': two sparse products on one batch have different index sets (the index set "
                "must depend on the block and the batch only)");
  }
}

void validate_bilevel_problem(const BilevelProblem& problem) {
  const std::string what = "bilevel problem '" + problem.name() + "': ";
  const Index m = problem.blocks();
  if (m < 1) throw ConfigError("bilevel-problem", what + "has no blocks");
  if (problem.placement().agents() != m) {
    throw ConfigError("bilevel-problem", what + "its placement has " +
                                             std::to_string(problem.placement().agents()) +
                                             " agents for " + std::to_string(m) + " blocks");
  }
  if (problem.upper_dim() < 1 || problem.lower_dim() < 1) {
    throw ConfigError("bilevel-problem", what + "the upper and lower dimensions must be positive");
  }
  for (Index i = 0; i < m; ++i) {
    const std::string blk = what + "block " + std::to_string(i) + ": ";
    if (problem.upper_rows(i) < 1 || problem.lower_rows(i) < 1) {
      throw ConfigError("bilevel-problem", blk + "needs at least one upper and one lower row");
    }
    const double mu = problem.lower_strong_convexity(i);
    if (!(mu > 0) || !std::isfinite(mu)) {
      throw ConfigError("bilevel-problem",
                        blk + "the lower problem is not strongly convex (strong-convexity bound " +
                            std::to_string(mu) + ")");
    }
  }
}

}  // namespace distopt
