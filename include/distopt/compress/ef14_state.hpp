#pragma once
// EF14 (Seide et al. 2014; Karimireddy et al., arXiv 1901.09847 Alg. 2), ALGORITHMS.md §2:
//   v_i = C(e_i + γ∇f_i(x)),  e_i ← e_i + γ∇f_i(x) − v_i,  x ← x − mean_i v_i.
// Here the memory is kept in units of the target (gradient) and the step is applied by the method
// to the aggregate: with ẽ_i = e_i/γ, u = ẽ_i + ∇f_i(x), c = C(u), ẽ_i ← u − c, x ← x − γ mean c.
// For a constant step and a positively homogeneous compressor (Top-k, Rand-k, sign, QSGD) this is
// the same iteration; the memory starts at 0.
#include "distopt/compress/feedback.hpp"

namespace distopt {

/// EF14's per-agent state: the error memory ẽ_i (in units of the target). Checkpointed as
/// agent/\<id\>/\<prefix\>/e.
class Ef14State : public AgentFeedback {
 public:
  /// ẽ_i⁰ = 0 of dimension `dim`.
  explicit Ef14State(Index dim) : e_(Vector::Zero(dim)) {}
  bool prepare(const Vector& t, Vector& u) override {
    u = e_ + t;
    return false;
  }
  void commit(const Vector& /*t*/, const Vector& u, const Vector& c) override { e_ = u - c; }
  void save(StateArchive& out, Index agent, const std::string& prefix) const override;
  void load(const StateArchive& in, Index agent, const std::string& prefix) override;
  const Vector& error() const { return e_; }  ///< ẽ_i: what the last compression left out

 private:
  Vector e_;
};

}  // namespace distopt
