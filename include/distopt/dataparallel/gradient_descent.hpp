#pragma once
// Distributed gradient descent (--algorithm gd) and minibatch SGD (--algorithm sgd) over N logical
// workers. The model is replicated; each worker a computes ∇f_a(x) on its shard (gd) or on a
// minibatch of --batch-size rows drawn from its own stream keyed by (seed, a, round) (sgd), and
// the server step is x ← x − γ Σ_a p_a g_a, aggregated through the communicator in agent order.
//
// The per-worker message goes through an Uplink (see uplink.hpp) so compression and error
// feedback (issue "compression") plug in without touching this loop. With --compressor-down the
// model goes down compressed with EF21-P primal error feedback (downlink.hpp): workers compute
// their gradients at w, the model they hold, x^{t+1} = x^t − γ Σ_a p_a g_a(w^t), then the server
// sends C(x^{t+1} − w^t) and w^{t+1} = w^t + C(x^{t+1} − w^t).
#include <memory>

#include "distopt/compress/downlink.hpp"
#include "distopt/compress/step_size.hpp"
#include "distopt/compress/uplink.hpp"
#include "distopt/data/dataset.hpp"
#include "distopt/method/algorithm.hpp"

namespace distopt {

/// Options of gd/sgd (command line: --algorithm gd|sgd, --lr, --lr-factor, --batch-size and the
/// uplink/downlink options).
struct GradientDescentOptions {
  /// false: full-batch gd; true: minibatch sgd (--algorithm sgd).
  bool stochastic = false;
  /// --lr (a number, default 0.1, or theory) and --lr-factor.
  StepSize lr;
  /// --batch-size: rows per worker step; 0 = the whole shard (gd). sgd needs > 0.
  Index batch_size = 0;
  /// --compressor, --feedback, --wire-precision, --econtrol-eta.
  UplinkOptions uplink;
  /// --compressor-down.
  DownlinkOptions downlink;
  /// ConfigError naming the key: lr > 0 (unless theory), lr-factor > 0, batch-size >= 0 (> 0 for
  /// sgd), and the uplink's and downlink's own checks.
  void validate() const;
};

/// gd / sgd (see above): the server step x ← x − γ Σ_a p_a g_a over the uplink, model down dense
/// or through the downlink.
class GradientDescent : public Algorithm {
 public:
  /// Validates the options; collective (the theoretical step gathers the agents' L_a).
  GradientDescent(RunContext& ctx, GradientDescentOptions options);
  std::string name() const override { return stochastic_ ? "sgd" : "gd"; }
  void initialize(const Vector& x0) override;
  void step(std::int64_t round) override;
  const Vector& model() const override { return x_; }
  std::uint64_t local_grad_evals() const override { return grad_evals_; }
  void save(StateArchive& out) const override;
  void load(const StateArchive& in) override;

  /// Worker a's gradient at x on its data for this round (full shard or minibatch).
  void local_gradient(Index agent, std::int64_t round, const Vector& x, Vector& g);

 private:
  RunContext& ctx_;
  bool stochastic_;
  double lr_;
  Index batch_size_;
  Vector x_, g_, sum_;
  std::unique_ptr<Uplink> uplink_;
  std::unique_ptr<Downlink> downlink_;  // nullptr: the model goes down dense
  Dataset batch_;
  std::uint64_t grad_evals_ = 0;
};

}  // namespace distopt
