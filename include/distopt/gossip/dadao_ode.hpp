#pragma once
// DADAO's constants and its between-event dynamics (ALGORITHMS.md §3; Nabli & Oyallon, ICML 2023,
// arXiv 2208.00779; reference code AdelNabli/DADAO optimizers.py). A node's state is six vectors
// stacked as the rows of a 6 x d matrix P = [x; x̃; y; ỹ; z; z̃]. Between two events of the node,
//   ẋ = η(x̃ − x),  x̃' = η̃(x − x̃),  ẏ = α(ỹ − y),  ỹ' = −θ(ν x̃ + y + z),
//   ż = α(z̃ − z),  z̃' = α̃(z − z̃),
// i.e. Ṗ = M P with the same constant 6x6 matrix M on every coordinate, integrated exactly:
// P(t) = exp(M (t − t_last)) P(t_last).
#include <Eigen/Core>

namespace distopt {

/// A 6x6 matrix: the type of the generator M and of its propagators exp(M dt).
using Matrix6 = Eigen::Matrix<double, 6, 6>;

/// Rows of a node's state matrix.
enum DadaoRow : int { kX = 0, kXt = 1, kY = 2, kYt = 3, kZ = 4, kZt = 5 };

/// DADAO's constants (ALGORITHMS.md §3; arXiv 2208.00779), as make() computes them with
/// r = √(ν/L).
struct DadaoConstants {
  /// \var L
  /// The largest smoothness constant over the nodes' f_i.
  /// \var mu
  /// μ, the smallest strong-convexity constant over the nodes' f_i.
  /// \var nu
  /// ν = μ/2.
  double L = 0, mu = 0, nu = 0;  // ν = μ/2; L largest, μ smallest over the nodes' f_i
  // ODE (r = √(ν/L))
  /// \var alpha
  /// α = r/4 (rate of y towards ỹ and of z towards z̃).
  /// \var alpha_t
  /// α̃ = r/8 (rate of z̃ towards z).
  /// \var eta
  /// η = r/8 (rate of x towards x̃).
  /// \var eta_t
  /// η̃ = r/8 (rate of x̃ towards x).
  /// \var theta
  /// θ = 1/(2r) = ½ √(L/ν) (ỹ' = −θ(ν x̃ + y + z)).
  double alpha = 0, alpha_t = 0, eta = 0, eta_t = 0, theta = 0;
  // jumps
  /// \var gamma
  /// γ = 1/(4L): gradient jump of x.
  /// \var gamma_t
  /// γ̃ = 1/(4 √(L ν)): gradient jump of x̃.
  /// \var delta
  /// δ = r/4: gradient jump of ỹ (with δ̃).
  /// \var delta_t
  /// δ̃ = 1: gradient jump of ỹ (with δ).
  /// \var beta
  /// β = ½: communication jump of z.
  /// \var beta_t
  /// β̃ = 2 χ1* √(L/ν): communication jump of z̃.
  double gamma = 0, gamma_t = 0, delta = 0, delta_t = 0, beta = 0, beta_t = 0;
  // graph and clocks
  /// \var chi1
  /// χ1 of Λ = Laplacian/|E| (GraphSpectrum).
  /// \var chi2
  /// χ2 of Λ = Laplacian/|E| (GraphSpectrum).
  double chi1 = 0, chi2 = 0;
  double comm_rate = 0;  ///< λ_c: total rate of communication events (√(2 χ1 χ2) by default)
  double chi1_star = 0;  ///< χ1 of the rate-weighted Laplacian λ_c Λ: χ1 / λ_c

  /// The paper's constants for f = Σ f_i with f_i L-smooth and μ-strongly convex, on a graph with
  /// the given χ1, χ2 (of Λ = Laplacian/|E|) and total communication rate λ_c.
  static DadaoConstants make(double L, double mu, double chi1, double chi2, double comm_rate);
  /// √(2 χ1 χ2): the rate the paper's analysis and the reference code use.
  static double default_comm_rate(double chi1, double chi2);
};

/// DADAO's between-event dynamics Ṗ = M P (see above), integrated exactly.
class DadaoOde {
 public:
  /// M from the ODE rates of `c` (α, α̃, η, η̃, θ, ν).
  explicit DadaoOde(const DadaoConstants& c);
  const Matrix6& generator() const { return M_; }  ///< M
  /// exp(M dt) (Eigen's scaling-and-squaring Padé approximant; deterministic for a given dt).
  Matrix6 propagator(double dt) const;

 private:
  Matrix6 M_;
};

}  // namespace distopt
