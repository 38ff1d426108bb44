#include "distopt/method/evaluator.hpp"

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
  // One buffer, one allreduce: [Σ_a p_a/n_a Σ_r ∇ℓ (d), Σ_a p_a/n_a Σ_r ℓ, correct, rows,
  //                            test loss sum, test correct].
  buf_.setZero(d + 5);
  Vector ga(d);
  double correct = 0, rows = 0;
  for (Index a = ctx_.placement.local_first(); a < ctx_.placement.end(ctx_.comm.rank()); ++a) {
    const DataBlock shard = ctx_.data.shard(a);
    if (shard.rows() == 0) continue;
    ga.setZero();
    const double l = obj.sum_loss(x, shard, &ga);
    const double w =
        ctx_.agent_weights[static_cast<std::size_t>(a)] / static_cast<double>(shard.rows());
    buf_.head(d).noalias() += w * ga;
    buf_[d] += w * l;
    const Index c = obj.sum_correct(x, shard);
    if (c >= 0) correct += static_cast<double>(c);
    rows += static_cast<double>(shard.rows());
  }
  buf_[d + 1] = correct;
  buf_[d + 2] = rows;
  const Dataset& test = ctx_.data.test;
  if (test.rows() > 0) {
    buf_[d + 3] = obj.sum_loss(x, test.all(), nullptr);
    const Index c = obj.sum_correct(x, test.all());
    buf_[d + 4] = c >= 0 ? static_cast<double>(c) : 0.0;
  }
  ctx_.comm.allreduce_sum(buf_);

  Evaluation e;
  g_ = buf_.head(d);
  e.loss = buf_[d] + obj.regularizer(x, &g_);
  e.grad_norm_sq = g_.squaredNorm();
  const bool classify = ctx_.data.task != Task::kRegression;
  if (classify && buf_[d + 2] > 0) e.train_accuracy = buf_[d + 1] / buf_[d + 2];
  const auto test_total = static_cast<double>(ctx_.data.total_test);
  if (test_total > 0) {
    e.has_test = true;
    // Test loss is the plain mean over test rows plus the regulariser (same f as training).
    e.test_loss = buf_[d + 3] / test_total + obj.regularizer(x, nullptr);
    if (classify) e.test_accuracy = buf_[d + 4] / test_total;
  }
  return e;
}

}  // namespace distopt
