#pragma once
// Server optimisers (FedOpt, Reddi et al., arXiv 2003.00295; ALGORITHMS.md §1 "Server
// optimizers"). Each federated method reduces a round to a pseudo-gradient Δ_t, the direction in
// which the server would move at unit step (FedAvg: Δ = Σ_{i∈S} p̃_i (y_i − x); FedDyn, FedSpeed:
// their new point minus x), and the server optimiser turns Δ into the step:
//   sgd       x ← x + η_g Δ                                    (η_g = 1: the methods' own update)
//   momentum  m ← β m + Δ;                x ← x + η_g m         (FedAvgM, Hsu et al. 2019)
//   adagrad   m ← β1 m + (1−β1) Δ;  v ← v + Δ²;                         x ← x + η_g m/(√v + τ)
//   adam      m ← β1 m + (1−β1) Δ;  v ← β2 v + (1−β2) Δ²;               x ← x + η_g m/(√v + τ)
//   yogi      m ← β1 m + (1−β1) Δ;  v ← v − (1−β2) Δ² sign(v − Δ²);     x ← x + η_g m/(√v + τ)
// as in FedOpt's Algorithm 2: m starts at 0, v at τ², no bias correction. Squares, roots and
// signs are element-wise.
#include <string>

#include "distopt/core/types.hpp"
#include "distopt/run/config.hpp"
#include "distopt/method/state_archive.hpp"

namespace distopt {

enum class ServerOptKind { kSgd, kMomentum, kAdagrad, kAdam, kYogi };

struct ServerOptimizerOptions {
  ServerOptKind kind = ServerOptKind::kSgd;
  double lr = 1.0;        // --lr-global η_g
  double momentum = 0.9;  // --server-momentum β
  double beta1 = 0.9;     // --server-beta1
  double beta2 = 0.99;    // --server-beta2
  double tau = 1e-3;      // --server-tau: adaptivity τ
  /// From --server-opt, --lr-global, --server-momentum, --server-beta1, --server-beta2,
  /// --server-tau; throws ConfigError naming the option when out of range.
  static ServerOptimizerOptions from(const Config& config);
};

class ServerOptimizer {
 public:
  explicit ServerOptimizer(ServerOptimizerOptions options) : opt_(options) {}
  /// Zero momentum, v = τ².
  void initialize(Index dim);
  /// One server step from the pseudo-gradient Δ.
  void apply(const Vector& delta, Vector& x);
  const ServerOptimizerOptions& options() const { return opt_; }

  /// Replicated state under "<prefix>/m" and "<prefix>/v" (only what the kind uses).
  void save(StateArchive& out, const std::string& prefix) const;
  void load(const StateArchive& in, const std::string& prefix);

 private:
  ServerOptimizerOptions opt_;
  Vector m_, v_;
};

}  // namespace distopt
