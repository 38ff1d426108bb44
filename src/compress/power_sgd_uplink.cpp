#include "distopt/compress/power_sgd_uplink.hpp"

#include <algorithm>

#include "distopt/core/error.hpp"
#include "distopt/core/random.hpp"

namespace distopt {

PowerSgdUplink::PowerSgdUplink(Communicator& comm, Reduction reduction, const Placement& placement,
                               const ParameterLayout& layout, Index rank, WirePrecision precision,
                               std::uint64_t seed)
    : comm_(comm),
      placement_(placement),
      layout_(layout),
      rank_(rank),
      precision_(precision),
      sum_p_(comm, reduction),
      sum_q_(comm, reduction) {
  if (rank < 1) throw ConfigError("compressor", "powersgd rank must be at least 1");
  const auto& bl = layout_.blocks();
  for (std::size_t b = 0; b < bl.size(); ++b) {
    const auto& blk = bl[b];
    const Index r = std::min({rank, blk.rows, blk.cols});
    if (blk.is_matrix() && r * (blk.rows + blk.cols) < blk.rows * blk.cols) {
      Block c{b, blk.offset, blk.rows, blk.cols, r, RowMatrix(blk.cols, r)};
      RandomStream rng(seed, static_cast<std::uint64_t>(b), 0, Purpose::kCompressor);
      for (Index i = 0; i < c.q.rows(); ++i) {
        for (Index j = 0; j < r; ++j) c.q(i, j) = rng.normal();
      }
      values_p_ += blk.rows * r;
      values_q_ += blk.cols * r;
      blocks_.push_back(std::move(c));
    } else {
      dense_.emplace_back(blk.offset, blk.size());
      values_p_ += blk.size();
    }
  }
  if (blocks_.empty()) {
    throw ConfigError("compressor", "powersgd: the model has no matrix block that rank " +
                                        std::to_string(rank) + " compresses (layout of " +
                                        std::to_string(layout_.size()) + " parameters)");
  }
}

double PowerSgdUplink::compression_ratio() const {
  return static_cast<double>(layout_.size()) / static_cast<double>(values_per_agent());
}

void PowerSgdUplink::begin(Index dim) {
  if (dim != layout_.size()) throw Error("PowerSgdUplink: vector size differs from the layout");
  ++step_;
  submitted_.clear();
}

void PowerSgdUplink::submit(Index agent, const Eigen::Ref<const Vector>& v, double weight) {
  if (v.size() != layout_.size()) throw Error("PowerSgdUplink::submit: dimension mismatch");
  auto& e = memory_[agent];
  if (e.size() == 0) e.setZero(v.size());
  // M_a = w·v + e_a, into storage kept across steps (no allocation per step).
  Vector& M = pending_[agent];
  M.resize(v.size());
  M.noalias() = weight * v + e;
  if (submitted_.empty() || submitted_.back() < agent) {
    submitted_.push_back(agent);
  } else if (std::find(submitted_.begin(), submitted_.end(), agent) == submitted_.end()) {
    submitted_.insert(std::upper_bound(submitted_.begin(), submitted_.end(), agent), agent);
  }
  const auto bytes = static_cast<std::uint64_t>(values_per_agent()) * value_bytes(precision_);
  comm_.traffic().add_up(agent, bytes, 2);
}

namespace {
/// Orthonormalises the columns of P in place (modified Gram–Schmidt); a column that vanishes
/// (norm 0 after projection) is left at zero.
void orthonormalise(Eigen::Ref<RowMatrix> p) {
  for (Index j = 0; j < p.cols(); ++j) {
    for (Index i = 0; i < j; ++i) p.col(j) -= p.col(i).dot(p.col(j)) * p.col(i);
    const double nrm = p.col(j).norm();
    if (nrm > 0) {
      p.col(j) /= nrm;
    } else {
      p.col(j).setZero();
    }
  }
}
void round_all(Vector& v, WirePrecision p) {
  if (p == WirePrecision::kFloat32) {
    for (Index i = 0; i < v.size(); ++i) v[i] = round_to_wire(v[i], p);
  }
}
}  // namespace

void PowerSgdUplink::finish(Vector& estimate) {
  const Index d = layout_.size();
  // First sum: P_a = M_a Q per block, and the uncompressed coordinates.
  sum_p_.reset(values_p_);
  for (const Index agent : submitted_) {
    const Vector& M = pending_.at(agent);
    payload_.resize(values_p_);
    Index off = 0;
    for (const auto& b : blocks_) {
      Eigen::Map<const RowMatrix> Mb(M.data() + b.offset, b.n, b.m);
      Eigen::Map<RowMatrix>(payload_.data() + off, b.n, b.r).noalias() = Mb * b.q;
      off += b.n * b.r;
    }
    for (const auto& [o, n] : dense_) {
      payload_.segment(off, n) = M.segment(o, n);
      off += n;
    }
    round_all(payload_, precision_);
    sum_p_.add(agent, payload_, 1.0);
  }
  sum_p_.finish(p_sum_);
  // Every coordinate is written below (the blocks tile the layout): no zeroing pass.
  estimate.resize(d);
  Index off = 0;
  for (const auto& b : blocks_) {
    orthonormalise(Eigen::Map<RowMatrix>(p_sum_.data() + off, b.n, b.r));
    off += b.n * b.r;
  }
  for (const auto& [o, n] : dense_) {
    estimate.segment(o, n) = p_sum_.segment(off, n);
    off += n;
  }
  // Second sum: Q_a = M_aᵀ P per block; each agent's residual becomes its memory.
  sum_q_.reset(values_q_);
  for (const Index agent : submitted_) {
    const Vector& M = pending_.at(agent);
    payload_.resize(values_q_);
    Index po = 0, qo = 0;
    for (const auto& b : blocks_) {
      Eigen::Map<const RowMatrix> Mb(M.data() + b.offset, b.n, b.m);
      Eigen::Map<const RowMatrix> P(p_sum_.data() + po, b.n, b.r);
      Eigen::Map<RowMatrix>(payload_.data() + qo, b.m, b.r).noalias() = Mb.transpose() * P;
      po += b.n * b.r;
      qo += b.m * b.r;
    }
    round_all(payload_, precision_);
    // e_a is zero outside the compressed blocks (set when created, kept so here); inside them it
    // is overwritten, so no zeroing pass over d.
    Vector& e = memory_[agent];
    if (e.size() != d) e.setZero(d);
    for (const auto& [o, n] : dense_) e.segment(o, n).setZero();
    po = 0;
    qo = 0;
    for (const auto& b : blocks_) {
      Eigen::Map<const RowMatrix> Mb(M.data() + b.offset, b.n, b.m);
      Eigen::Map<const RowMatrix> P(p_sum_.data() + po, b.n, b.r);
      Eigen::Map<const RowMatrix> Qa(payload_.data() + qo, b.m, b.r);
      Eigen::Map<RowMatrix>(e.data() + b.offset, b.n, b.m).noalias() = Mb - P * Qa.transpose();
      po += b.n * b.r;
      qo += b.m * b.r;
    }
    sum_q_.add(agent, payload_, 1.0);
  }
  sum_q_.finish(q_sum_);
  Index po = 0, qo = 0;
  for (auto& b : blocks_) {
    Eigen::Map<const RowMatrix> P(p_sum_.data() + po, b.n, b.r);
    Eigen::Map<const RowMatrix> Q(q_sum_.data() + qo, b.m, b.r);
    Eigen::Map<RowMatrix>(estimate.data() + b.offset, b.n, b.m).noalias() = P * Q.transpose();
    b.q = Q;  // warm start
    po += b.n * b.r;
    qo += b.m * b.r;
  }
  submitted_.clear();
}

void PowerSgdUplink::save(StateArchive& out, const std::string& prefix) const {
  out.put_count(prefix + "/step", step_);
  for (std::size_t i = 0; i < blocks_.size(); ++i) {
    const auto& q = blocks_[i].q;
    out.put(prefix + "/q/" + std::to_string(blocks_[i].index),
            Eigen::Map<const Vector>(q.data(), q.size()));
  }
  for (const auto& [agent, e] : memory_) out.put(StateArchive::agent_key(agent, prefix + "/e"), e);
}

void PowerSgdUplink::load(const StateArchive& in, const std::string& prefix) {
  step_ = in.get_count(prefix + "/step");
  for (auto& b : blocks_) {
    const Vector q = in.get_vector(prefix + "/q/" + std::to_string(b.index));
    if (q.size() != b.q.size()) throw InputError("checkpoint: PowerSGD query of the wrong shape");
    b.q = Eigen::Map<const RowMatrix>(q.data(), b.m, b.r);
  }
  memory_.clear();
  for (Index a = placement_.local_first(); a < placement_.end(placement_.rank()); ++a) {
    const auto key = StateArchive::agent_key(a, prefix + "/e");
    if (in.has(key)) memory_[a] = in.get_vector(key);
  }
}

}  // namespace distopt
