#include "distopt/federated/local_solver.hpp"

#include <algorithm>
#include <span>

#include "distopt/core/check.hpp"
#include "distopt/core/random.hpp"

namespace distopt {

void LocalSchedule::validate() const {
  check::at_least("local-steps", local_steps, 1);
  check::at_least("local-epochs", local_epochs, 0);
  check::at_least("batch-size", batch_size, 0);
  check::nonnegative("clip-norm", clip_norm);
  check::nonnegative("weight-decay", weight_decay);
}

Index LocalSolver::steps_for(Index rows) const {
  if (rows == 0) return 0;
  if (full_batch(rows)) return s_.local_epochs > 0 ? s_.local_epochs : s_.local_steps;
  if (s_.local_epochs > 0) return s_.local_epochs * ((rows + s_.batch_size - 1) / s_.batch_size);
  return s_.local_steps;
}

void LocalSolver::take_step(const DataBlock& batch, double lr, Vector& y, const Direction& direction,
                            std::uint64_t* grad_evals) {
  const int evals = direction(y, batch, d_);
  *grad_evals += static_cast<std::uint64_t>(evals);
  if (s_.clip_norm > 0) {
    // torch.nn.utils.clip_grad_norm_: coef = max_norm / (total_norm + 1e-6), clamped to 1.
    const double coef = s_.clip_norm / (d_.norm() + 1e-6);
    if (coef < 1.0) d_ *= coef;
  }
  if (s_.weight_decay > 0) d_.noalias() += s_.weight_decay * y;
  y.noalias() -= lr * d_;
}

Index LocalSolver::run(Index client, std::int64_t round, const DataBlock& shard, double lr, Vector& y,
                       const Direction& direction, std::uint64_t* grad_evals) {
  const Index n = shard.rows();
  const Index steps = steps_for(n);
  if (steps == 0) return 0;
  if (full_batch(n)) {
    for (Index k = 0; k < steps; ++k) take_step(shard, lr, y, direction, grad_evals);
    return steps;
  }
  const Dataset& ds = shard.dataset();
  const Index b = s_.batch_size;
  RandomStream rng(seed_, static_cast<std::uint64_t>(client), static_cast<std::uint64_t>(round),
                   Purpose::kMinibatch);
  if (s_.local_epochs == 0) {
    for (Index k = 0; k < steps; ++k) {
      const DataBlock batch = sampler_.draw(shard, b, rng);
      take_step(batch, lr, y, direction, grad_evals);
    }
    return steps;
  }
  perm_.resize(static_cast<std::size_t>(n));
  for (Index e = 0; e < s_.local_epochs; ++e) {
    for (Index i = 0; i < n; ++i) perm_[static_cast<std::size_t>(i)] = shard.begin() + i;
    rng.shuffle(perm_.begin(), perm_.end());
    for (Index start = 0; start < n; start += b) {
      const Index len = std::min(b, n - start);
      const std::span<const Index> rows(perm_.data() + start, static_cast<std::size_t>(len));
      Dataset& into = len == b ? batch_ : tail_;
      ds.gather(rows, into);
      take_step(into.all(), lr, y, direction, grad_evals);
    }
  }
  return steps;
}

}  // namespace distopt
