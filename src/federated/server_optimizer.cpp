#include "distopt/federated/server_optimizer.hpp"

#include "distopt/core/check.hpp"
#include "distopt/core/error.hpp"

namespace distopt {

void ServerOptimizerOptions::validate() const {
  check::positive("lr-global", lr);
  check::in_range("server-momentum", momentum, 0.0, 1.0, false, /*hi_open=*/true);
  check::in_range("server-beta1", beta1, 0.0, 1.0, false, true);
  check::in_range("server-beta2", beta2, 0.0, 1.0, false, true);
  check::positive("server-tau", tau);
}

void ServerOptimizer::initialize(Index dim) {
  m_.resize(0);
  v_.resize(0);
  if (opt_.kind == ServerOptKind::kSgd) return;
  m_.setZero(dim);
  if (opt_.kind != ServerOptKind::kMomentum) v_.setConstant(dim, opt_.tau * opt_.tau);
}

void ServerOptimizer::apply(const Vector& delta, Vector& x) {
  const double b1 = opt_.beta1, b2 = opt_.beta2;
  switch (opt_.kind) {
    case ServerOptKind::kSgd:
      x.noalias() += opt_.lr * delta;
      return;
    case ServerOptKind::kMomentum:
      m_ = opt_.momentum * m_ + delta;
      x.noalias() += opt_.lr * m_;
      return;
    case ServerOptKind::kAdagrad:
      v_.array() += delta.array().square();
      break;
    case ServerOptKind::kAdam:
      v_.array() = b2 * v_.array() + (1.0 - b2) * delta.array().square();
      break;
    case ServerOptKind::kYogi: {
      const auto d2 = delta.array().square();
      v_.array() -= (1.0 - b2) * d2 * (v_.array() - d2).sign();
      break;
    }
  }
  m_ = b1 * m_ + (1.0 - b1) * delta;
  x.array() += opt_.lr * m_.array() / (v_.array().sqrt() + opt_.tau);
}

void ServerOptimizer::save(StateArchive& out, const std::string& prefix) const {
  if (m_.size() > 0) out.put(prefix + "/m", m_);
  if (v_.size() > 0) out.put(prefix + "/v", v_);
}

void ServerOptimizer::load(const StateArchive& in, const std::string& prefix) {
  auto read = [&](const std::string& key, Vector& into) {
    if (into.size() == 0) return;
    Vector v = in.get_vector(key);
    if (v.size() != into.size()) {
      throw InputError("checkpoint: state '" + key + "' has dimension " + std::to_string(v.size()) +
                       ", the model has " + std::to_string(into.size()));
    }
    into = std::move(v);
  };
  read(prefix + "/m", m_);
  read(prefix + "/v", v_);
}

}  // namespace distopt
