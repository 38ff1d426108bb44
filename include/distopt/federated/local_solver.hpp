#pragma once
// The client's local loop shared by every federated method (ALGORITHMS.md §1: "each active client
// runs K local steps from x^t on minibatches of its own data"):
//
//   y_0 = x^t;   y_{k+1} = y_k − η_l d(y_k; ξ_k),   k = 0..K_i−1
//
// where the direction d is the method's (FedAvg: ∇f_i(y; ξ); FedProx adds μ(y − x^t); SCAFFOLD
// −c_i + c; FedDyn −h_i + α(y − x^t); FedSpeed its merged quasi-gradient and prox terms).
// The schedule of minibatches ξ_k:
//   * --batch-size 0 (or at least the client's row count): the whole shard every step (local GD);
//     K_i = --local-steps, or --local-epochs when that is positive;
//   * --local-epochs E > 0: E passes over the shard, each a fresh permutation cut into batches of
//     --batch-size rows (the last one shorter): K_i = E ⌈n_i / B⌉;
//   * otherwise --local-steps K batches of --batch-size rows, each drawn without replacement
//     (MinibatchSampler, the data layer's allocation-free draw).
// Each step's direction d is post-processed as PyTorch's clip_grad_norm_ and SGD(weight_decay)
// do in FL-Simulator's clients (client/client.py: clip_grad_norm_(max_norm=10), then
// optimizer.step()):
//   d ← d · min(1, c / (‖d‖ + 1e-6))     (--clip-norm c > 0; 0: off; torch's clip_coef)
//   d ← d + w y                          (--weight-decay w; added after clipping, as torch's SGD)
// so the step is y ← y − η_l d. The clip acts on the method's whole direction (FedAvg: the
// stochastic gradient, as FL-Simulator; with FedProx/FedDyn/FedSpeed it includes the prox and
// correction terms, which FL-Simulator partly applies through SGD's weight_decay, unclipped).
// Weight decay changes only the step, not the reported loss (unlike --l2, which adds
// (l2/2)‖x‖² to every agent's objective: its loss, its gradient and the server's metrics).
// The rows come from the stream keyed (seed, client, round, Purpose::kMinibatch), so a client draws
// the same batches whichever rank holds it, and a resumed run redraws them exactly.
#include <cstdint>
#include <functional>

#include "distopt/core/types.hpp"
#include "distopt/data/dataset.hpp"
#include "distopt/data/minibatch.hpp"

namespace distopt {

class Objective;

/// How many local steps a client takes, on which batches, and how each step treats its direction
/// (clipping, weight decay; above).
struct LocalSchedule {
  /// --local-steps: local steps K >= 1 per round (default 10); ignored when local_epochs > 0
  /// (the command line refuses --local-epochs together with an explicit --local-steps).
  Index local_steps = 10;
  /// --local-epochs: local passes E >= 0 over the shard instead of local_steps (default 0: off).
  Index local_epochs = 0;
  /// --batch-size: rows per local batch, >= 0 (default 0: the whole shard every step).
  Index batch_size = 0;
  /// --clip-norm: clip each step's direction to norm c (torch's clip_grad_norm_), c >= 0
  /// (default 0: no clipping).
  double clip_norm = 0.0;
  /// --weight-decay: w >= 0 added as w·y to each step's direction after clipping (PyTorch SGD's
  /// weight_decay; default 0).
  double weight_decay = 0.0;
  /// Throws ConfigError("local-steps" | "local-epochs" | "batch-size" | "clip-norm" |
  /// "weight-decay", ...) when out of range.
  void validate() const;
};

/// Runs a client's local steps (the loop above), reusing its buffers across clients and rounds.
class LocalSolver {
 public:
  /// d(y, batch, d_out) writes the direction at y on the batch into d_out and returns the number of
  /// gradient evaluations it made.
  using Direction = std::function<int(const Vector& y, const DataBlock& batch, Vector& d)>;

  /// The schedule (not validated here) and the run's seed, keying the minibatch streams.
  LocalSolver(LocalSchedule schedule, std::uint64_t seed) : s_(schedule), seed_(seed) {}

  /// Number of local steps of a client holding n rows (0 for an empty client).
  Index steps_for(Index rows) const;
  /// Runs the local steps of `client` in `round` on its shard, updating y in place. Returns the
  /// number of steps taken; adds the gradient evaluations to *grad_evals.
  Index run(Index client, std::int64_t round, const DataBlock& shard, double lr, Vector& y,
            const Direction& direction, std::uint64_t* grad_evals);

  /// The schedule the solver was built with.
  const LocalSchedule& schedule() const { return s_; }

 private:
  bool full_batch(Index rows) const { return s_.batch_size == 0 || s_.batch_size >= rows; }
  void take_step(const DataBlock& batch, double lr, Vector& y, const Direction& direction,
                 std::uint64_t* grad_evals);

  LocalSchedule s_;
  std::uint64_t seed_;
  Vector d_;
  MinibatchSampler sampler_;
  std::vector<Index> perm_;
  Dataset batch_, tail_;  // epoch batches: reused storage (full-size and the shorter last batch)
};

}  // namespace distopt
