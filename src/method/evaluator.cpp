#include "distopt/method/evaluator.hpp"

#include <algorithm>

#include "distopt/comm/agent_sum.hpp"
#include "distopt/data/local_data.hpp"
#include "distopt/method/algorithm.hpp"
#include "distopt/model/objective.hpp"

namespace distopt {

void Evaluation::write(MetricRow& row) const {
  row.set("loss", loss);
  row.set("grad_norm_sq", grad_norm_sq);
  if (train_accuracy >= 0) row.set("train_accuracy", train_accuracy);
  if (has_test) {
    row.set("test_loss", test_loss);
    if (test_accuracy >= 0) row.set("test_accuracy", test_accuracy);
  }
}

Evaluator::Evaluator(RunContext& ctx) : ctx_(ctx) {}

void Evaluator::full_gradient(const Vector& x, Vector& g) {
  evaluate(x);
  g = g_;
}

Evaluation Evaluator::evaluate(const Vector& x) {
  const Index d = x.size();
  const auto& obj = ctx_.objective;
  // Per agent a: [p_a/n_a Σ_r ∇ℓ (d), p_a/n_a Σ_r ℓ, correct, rows]; per test block b (whole
  // blocks of kTestBlockRows on one rank): [Σ_r ℓ, correct]. With --reduction allreduce each
  // rank adds its parts in order and one allreduce sums them; with ordered, AgentSum sums agents
  // and blocks in global order, so every metric has the same bits at any rank count (counts are
  // integers, exact either way).
  const bool ordered = ctx_.reduction == Reduction::kOrdered;
  AgentSum agents(ctx_.comm, ctx_.reduction);
  agents.reset(d + 3);
  buf_.setZero(d + 3);
  Vector ga(d);
  for (Index a = ctx_.placement.local_first(); a < ctx_.placement.end(ctx_.comm.rank()); ++a) {
    const DataBlock shard = ctx_.data.shard(a);
    if (shard.rows() == 0) continue;
    ga.setZero();
    const double l = obj.sum_loss(x, shard, &ga);
    const double w =
        ctx_.agent_weights[static_cast<std::size_t>(a)] / static_cast<double>(shard.rows());
    buf_.head(d).noalias() = w * ga;
    buf_[d] = w * l;
    const Index c = obj.sum_correct(x, shard);
    buf_[d + 1] = c >= 0 ? static_cast<double>(c) : 0.0;
    buf_[d + 2] = static_cast<double>(shard.rows());
    agents.add(a, buf_);
  }
  Vector train;
  agents.finish(train);

  const Dataset& test = ctx_.data.test;
  Vector test_sums = Vector::Zero(2);
  if (ctx_.data.total_test > 0) {
    AgentSum blocks(ctx_.comm, ctx_.reduction);
    blocks.reset(2);
    Vector part(2);
    // Ordered: one record per block; allreduce: the whole slice at once (fewer, larger calls).
    const Index step = ordered ? kTestBlockRows : std::max<Index>(test.rows(), 1);
    for (Index lo = 0; lo < test.rows(); lo += step) {
      const Index n = std::min(step, test.rows() - lo);
      const DataBlock b = test.block(lo, n);
      part[0] = obj.sum_loss(x, b, nullptr);
      const Index c = obj.sum_correct(x, b);
      part[1] = c >= 0 ? static_cast<double>(c) : 0.0;
      blocks.add((ctx_.data.test_first + lo) / kTestBlockRows, part);
    }
    blocks.finish(test_sums);
  }

  Evaluation e;
  g_ = train.head(d);
  e.loss = train[d] + obj.regularizer(x, &g_);
  e.grad_norm_sq = g_.squaredNorm();
  const bool classify = ctx_.data.task != Task::kRegression;
  if (classify && train[d + 2] > 0) e.train_accuracy = train[d + 1] / train[d + 2];
  const auto test_total = static_cast<double>(ctx_.data.total_test);
  if (test_total > 0) {
    e.has_test = true;
    // Test loss is the plain mean over test rows plus the regulariser (same f as training).
    e.test_loss = test_sums[0] / test_total + obj.regularizer(x, nullptr);
    if (classify) e.test_accuracy = test_sums[1] / test_total;
  }
  return e;
}

}  // namespace distopt
