#pragma once
// Extreme eigenvalues of the data Gram matrix ÃᵀÃ of a block of rows, where Ã is the rows A
// (n×d) or, with append_one, the augmented rows [A 1] (a bias column). They give the smoothness
// and strong-convexity constants of the linear models (least squares: ∇² = AᵀA/n).
//
// Strategy: when m = min(n, d') is small enough (m ≤ kExactGramLimit and n·d'·m ≤ kExactGramWork),
// the m×m Gram (ÃᵀÃ when d' ≤ n, else ÃÃᵀ, which has the same nonzero eigenvalues) is formed and
// diagonalised exactly. Otherwise λ_max comes from power iteration on ÃᵀÃ applied as two
// matrix-vector products, never formed.
#include "distopt/data/dataset.hpp"

namespace distopt {

/// Largest m = min(n, d') for which the m×m Gram is formed and diagonalised exactly.
inline constexpr Index kExactGramLimit = 1024;
/// Multiply-adds (n·d'·m) allowed for forming the Gram exactly.
inline constexpr double kExactGramWork = 1e11;  // multiply-adds allowed for forming the Gram

/// An upper bound on λ_max(ÃᵀÃ) (0 for an empty block). Exact when the Gram is formed. By power
/// iteration it is ρ + ‖ÃᵀÃv − ρv‖ (ρ the Rayleigh quotient of the final unit vector v), which
/// bounds the eigenvalue nearest ρ (Krylov–Weinstein), i.e. λ_max with probability one over the
/// seeded random start; it is capped by the always valid trace bound ‖Ã‖_F².
double gram_lambda_max(const DataBlock& rows, bool append_one = false);

/// λ_min(ÃᵀÃ) when it can be computed exactly (d' ≤ n and the Gram small enough), else 0 (a valid
/// lower bound: the Gram is positive semidefinite). Never negative.
double gram_lambda_min(const DataBlock& rows, bool append_one = false);

}  // namespace distopt
