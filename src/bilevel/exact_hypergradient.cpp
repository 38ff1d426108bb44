#include "distopt/bilevel/exact_hypergradient.hpp"

#include <Eigen/Cholesky>
#include <algorithm>
#include <cmath>
#include <limits>

#include "distopt/core/check.hpp"
#include "distopt/core/error.hpp"

namespace distopt {

LinearSolver linear_solver_from_string(const std::string& s) {
  if (s == "auto") return LinearSolver::kAuto;
  if (s == "cholesky") return LinearSolver::kCholesky;
  if (s == "cg") return LinearSolver::kCg;
  throw ConfigError("bilevel-solver", "must be auto, cholesky or cg (got '" + s + "')");
}

const char* to_string(LinearSolver s) {
  switch (s) {
    case LinearSolver::kAuto:
      return "auto";
    case LinearSolver::kCholesky:
      return "cholesky";
    case LinearSolver::kCg:
      return "cg";
  }
  return "?";
}

void HypergradientSolveOptions::validate() const {
  check::in_range("bilevel-cg-tol", cg_tol, 0.0, 1.0, /*lo_open=*/true, /*hi_open=*/true);
  check::at_least("bilevel-cg-max-iter", cg_max_iter, 1);
  check::positive("bilevel-lower-tol", lower_tol);
  check::at_least("bilevel-lower-max-iter", lower_max_iter, 1);
}

void HypergradientStats::merge(const HypergradientStats& o) {
  newton_steps += o.newton_steps;
  cg_iterations += o.cg_iterations;
  lower_grad_norm = std::max(lower_grad_norm, o.lower_grad_norm);
  linear_residual = std::max(linear_residual, o.linear_residual);
  converged = converged && o.converged;
  counts += o.counts;
}

CgResult conjugate_gradient(const std::function<void(const Vector&, Vector&)>& apply,
                            const Vector& b, Vector& x, double tol, Index max_iter) {
  CgResult res;
  const double bnorm = b.norm();
  if (bnorm == 0) {
    x.setZero(b.size());
    res.converged = true;
    return res;
  }
  if (x.size() != b.size()) x.setZero(b.size());
  Vector r(b.size()), p(b.size()), ap(b.size());
  apply(x, ap);
  r = b - ap;
  p = r;
  double rr = r.squaredNorm();
  const double stop = tol * bnorm;
  while (std::sqrt(rr) > stop && res.iterations < max_iter) {
    apply(p, ap);
    const double pap = p.dot(ap);
    if (!(pap > 0)) break;  // not positive definite along p (or a breakdown): stop here
    const double alpha = rr / pap;
    x.noalias() += alpha * p;
    r.noalias() -= alpha * ap;
    const double rr_new = r.squaredNorm();
    p = r + (rr_new / rr) * p;
    rr = rr_new;
    ++res.iterations;
  }
  res.relative_residual = std::sqrt(rr) / bnorm;
  res.converged = res.relative_residual <= tol;
  return res;
}

namespace {

bool use_cholesky(const BilevelProblem& problem, LinearSolver s) {
  if (s == LinearSolver::kCholesky) {
    if (!problem.has_lower_hessian()) {
      throw ConfigError("bilevel-solver",
                        "cholesky needs the lower Hessian, which bilevel problem '" +
                            problem.name() + "' does not form");
    }
    return true;
  }
  return s == LinearSolver::kAuto && problem.has_lower_hessian();
}

// out = H⁻¹ b with H = ∇²_yy g_i(x, y) on every row.
void solve_hessian(BilevelProblem& problem, Index block, const Vector& x, const Vector& y,
                   const Vector& b, Vector& out, const HypergradientSolveOptions& o,
                   HypergradientStats& st) {
  const SampleBatch all;
  if (use_cholesky(problem, o.solver)) {
    Matrix H;
    problem.lower_hessian(block, x, y, all, H);
    ++st.counts.hessians;
    Eigen::LLT<Matrix> llt(H);
    if (llt.info() != Eigen::Success) {
      throw Error("bilevel problem '" + problem.name() + "', block " + std::to_string(block) +
                  ": the lower Hessian is not positive definite");
    }
    out = llt.solve(b);
    return;
  }
  out.setZero(b.size());
  const CgResult r = conjugate_gradient(
      [&](const Vector& v, Vector& hv) {
        problem.lower_hvp(block, x, y, all, v, hv);
        ++st.counts.hvps;
      },
      b, out, o.cg_tol, o.cg_max_iter);
  st.cg_iterations += r.iterations;
  st.linear_residual = std::max(st.linear_residual, r.relative_residual);
  st.converged = st.converged && r.converged;
}

}  // namespace

double solve_lower(BilevelProblem& problem, Index block, const Vector& x, Vector& y,
                   const HypergradientSolveOptions& o, HypergradientStats* stats) {
  HypergradientStats st;
  const SampleBatch all;
  if (y.size() != problem.lower_dim()) y = problem.initial_lower(block);
  Vector gy, d, trial;
  double value = problem.lower(block, x, y, all, nullptr, &gy);
  ++st.counts.gradients;
  double gnorm = gy.norm();
  constexpr double kArmijo = 1e-4;
  const double eps = std::numeric_limits<double>::epsilon();
  for (Index it = 0; it < o.lower_max_iter && gnorm > o.lower_tol; ++it) {
    solve_hessian(problem, block, x, y, gy, d, o, st);  // the Newton direction H⁻¹ ∇_y g
    const double slope = gy.dot(d);                     // > 0 for a descent step −d
    double t = 1.0;
    for (int back = 0; back < 60; ++back) {
      trial = y - t * d;
      const double v = problem.lower(block, x, trial, all, nullptr, nullptr);
      // Armijo, with room for the rounding of g near the minimum (where the decrease is below
      // the resolution of g itself).
      if (v <= value - kArmijo * t * slope + 16 * eps * std::abs(value)) break;
      t *= 0.5;
    }
    y.swap(trial);
    value = problem.lower(block, x, y, all, nullptr, &gy);
    ++st.counts.gradients;
    gnorm = gy.norm();
    ++st.newton_steps;
  }
  st.lower_grad_norm = gnorm;
  st.converged = st.converged && gnorm <= o.lower_tol;
  if (stats) stats->merge(st);
  return value;
}

double block_hypergradient(BilevelProblem& problem, Index block, const Vector& x, Vector& y,
                           Vector* grad, const HypergradientSolveOptions& o,
                           HypergradientStats* stats) {
  HypergradientStats st;
  solve_lower(problem, block, x, y, o, &st);
  const SampleBatch all;
  double f = 0;
  if (!grad) {
    f = problem.upper(block, x, y, all, nullptr, nullptr);
  } else {
    Vector fx, fy, v, cross;
    f = problem.upper(block, x, y, all, &fx, &fy);
    ++st.counts.gradients;
    solve_hessian(problem, block, x, y, fy, v, o, st);  // v = [∇²_yy g]⁻¹ ∇_y f
    problem.lower_cross(block, x, y, all, v, cross);
    ++st.counts.cross;
    *grad = fx - cross;
  }
  if (stats) stats->merge(st);
  return f;
}

double exact_hypergradient(Communicator& comm, Reduction reduction, BilevelProblem& problem,
                           const Vector& x, std::vector<Vector>& local_y, Vector* grad,
                           const HypergradientSolveOptions& o, HypergradientStats* stats) {
  (void)use_cholesky(problem, o.solver);  // a solver the problem cannot take fails on every rank
  const Placement& pl = problem.placement();
  const Index first = pl.local_first();
  const Index count = pl.local_count();
  if (static_cast<Index>(local_y.size()) != count) {
    local_y.clear();
    for (Index l = 0; l < count; ++l) local_y.push_back(problem.initial_lower(first + l));
  }
  const Index d = problem.upper_dim();
  const Index len = grad ? 1 + d : 1;
  const double w = 1.0 / static_cast<double>(problem.blocks());
  AgentSum sum(comm, reduction);
  sum.reset(len);
  Vector rec(len), g;
  for (Index l = 0; l < count; ++l) {
    const Index i = first + l;
    rec[0] = block_hypergradient(problem, i, x, local_y[static_cast<std::size_t>(l)],
                                 grad ? &g : nullptr, o, stats);
    if (grad) rec.tail(d) = g;
    sum.add(i, rec, w);
  }
  Vector total;
  sum.finish(total);
  if (grad) *grad = total.tail(d);
  return total[0];
}

}  // namespace distopt
