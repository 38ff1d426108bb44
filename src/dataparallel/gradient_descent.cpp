#include "distopt/dataparallel/gradient_descent.hpp"

#include "distopt/core/check.hpp"
#include "distopt/core/error.hpp"
#include "distopt/core/random.hpp"
#include "distopt/data/local_data.hpp"
#include "distopt/model/objective.hpp"

namespace distopt {

void GradientDescentOptions::validate() const {
  lr.validate();
  check::at_least("batch-size", batch_size, 0);
  if (stochastic && batch_size == 0) {
    throw ConfigError("batch-size", "sgd needs a positive minibatch size (0 means full batch: use gd)");
  }
  uplink.validate();
  downlink.validate();
}

GradientDescent::GradientDescent(RunContext& ctx, GradientDescentOptions options)
    : ctx_(ctx),
      stochastic_(options.stochastic),
      uplink_(make_uplink(ctx, options.uplink, "grad")),
      downlink_(make_downlink(ctx, options.downlink, "down")) {
  options.validate();
  lr_ = resolve_step_size(ctx, options.lr, options.uplink);  // a number, or the theory's step
  batch_size_ = options.batch_size;
  if (stochastic_) ctx_.data.check_batch_size(batch_size_);
}

void GradientDescent::initialize(const Vector& x0) {
  x_ = x0;
  g_.setZero(x0.size());
  if (downlink_) downlink_->initialize(x0);
}

void GradientDescent::local_gradient(Index agent, std::int64_t round, const Vector& x, Vector& g) {
  const DataBlock shard = ctx_.data.shard(agent);
  if (!stochastic_ || batch_size_ >= shard.rows()) {
    ctx_.objective.loss_grad(x, shard, g);
  } else {
    RandomStream rng(ctx_.seed, static_cast<std::uint64_t>(agent), static_cast<std::uint64_t>(round),
                     Purpose::kMinibatch);
    auto rows = rng.sample_without_replacement(shard.rows(), batch_size_);
    for (auto& r : rows) r += shard.begin();
    shard.dataset().gather(rows, batch_);
    ctx_.objective.loss_grad(x, batch_.all(), g);
  }
  ++grad_evals_;
}

void GradientDescent::step(std::int64_t round) {
  const Index d = x_.size();
  uplink_->begin(d);
  const auto bytes = static_cast<std::uint64_t>(d) * sizeof(double);
  const Index first = ctx_.placement.local_first();
  const Index end = ctx_.placement.end(ctx_.comm.rank());
  // Workers hold x (dense downlink) or w (compressed downlink, EF21-P).
  const Vector& held = downlink_ ? downlink_->model() : x_;
  for (Index a = first; a < end; ++a) {
    local_gradient(a, round, held, g_);
    uplink_->submit(a, g_, ctx_.agent_weights[static_cast<std::size_t>(a)]);
    // Logical traffic of a server deployment: the model goes down dense to every worker; the
    // uplink counts what goes up.
    if (!downlink_) ctx_.comm.traffic().add_down(a, bytes);
  }
  uplink_->finish(sum_);
  x_.noalias() -= lr_ * sum_;
  if (downlink_) {
    // One message C(x^{t+1} − w^t) to every worker; computed identically on every rank (the server
    // is replicated), so no MPI traffic: only the logical bytes are counted.
    const std::uint64_t msg = downlink_->broadcast(x_, static_cast<std::uint64_t>(round));
    for (Index a = first; a < end; ++a) ctx_.comm.traffic().add_down(a, msg);
  }
}

void GradientDescent::save(StateArchive& out) const {
  out.put("server/x", x_);
  uplink_->save(out, "uplink/grad");
  if (downlink_) downlink_->save(out);
  out.put_count("rank/" + std::to_string(ctx_.comm.rank()) + "/grad_evals", grad_evals_);
}

void GradientDescent::load(const StateArchive& in) {
  x_ = in.get_vector("server/x");
  uplink_->load(in, "uplink/grad");
  if (downlink_) downlink_->load(in);
  const auto key = "rank/" + std::to_string(ctx_.comm.rank()) + "/grad_evals";
  // Per-agent counts would survive a change of rank count; gd counts one gradient per agent per
  // round, so recompute from the round when the layout changed.
  grad_evals_ = in.has(key) ? in.get_count(key)
                            : static_cast<std::uint64_t>(ctx_.placement.local_count()) *
                                  in.get_count("trainer/round");
}

}  // namespace distopt
