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
#include "distopt/method/state_archive.hpp"

namespace distopt {

/// The server optimiser's update rule (--server-opt).
enum class ServerOptKind { kSgd, kMomentum, kAdagrad, kAdam, kYogi };

/// Typed options of the server optimiser. The command line maps --server-opt, --lr-global,
/// --server-momentum, --server-beta1, --server-beta2 and --server-tau onto these (in the run
/// layer, federated_config.cpp); C++ users fill them directly. Every field is checked by
/// validate() whatever the kind, as on the command line.
struct ServerOptimizerOptions {
  /// --server-opt: sgd | momentum | adagrad | adam | yogi (default sgd).
  ServerOptKind kind = ServerOptKind::kSgd;
  /// --lr-global: server step size η_g > 0 (default 1).
  double lr = 1.0;
  /// --server-momentum: momentum β in [0, 1) (default 0.9; used by momentum).
  double momentum = 0.9;
  /// --server-beta1: first-moment decay in [0, 1) (default 0.9; adagrad, adam, yogi).
  double beta1 = 0.9;
  /// --server-beta2: second-moment decay in [0, 1) (default 0.99; adam, yogi).
  double beta2 = 0.99;
  /// --server-tau: adaptivity τ > 0, v starts at τ² (default 1e-3; adagrad, adam, yogi).
  double tau = 1e-3;
  /// Throws ConfigError naming the option (lr-global, server-momentum, server-beta1,
  /// server-beta2, server-tau) when a value is out of range.
  void validate() const;
};

/// The FedOpt server step x ← x + step(Δ), with its replicated state (m, v).
class ServerOptimizer {
 public:
  /// Does not validate: FederatedRound validates its options before building the optimiser.
  explicit ServerOptimizer(ServerOptimizerOptions options) : opt_(options) {}
  /// Zero momentum, v = τ².
  void initialize(Index dim);
  /// One server step from the pseudo-gradient Δ.
  void apply(const Vector& delta, Vector& x);
  /// The options the optimiser was built with.
  const ServerOptimizerOptions& options() const { return opt_; }

  /// Replicated state under "<prefix>/m" and "<prefix>/v" (only what the kind uses).
  void save(StateArchive& out, const std::string& prefix) const;
  /// Reads what save() wrote; InputError when a stored vector has the wrong dimension.
  void load(const StateArchive& in, const std::string& prefix);

 private:
  ServerOptimizerOptions opt_;
  Vector m_, v_;
};

}  // namespace distopt
