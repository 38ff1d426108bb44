#pragma once
// EF21 (Richtárik, Sokolov, Fatkhullin, arXiv 2106.05203, Alg. 1), ALGORITHMS.md §2, per worker:
//   g_i⁰ = t_i⁰ sent uncompressed;  then c_i = C(t_i − g_i), g_i ← g_i + c_i (c_i is sent),
// and the server keeps g = Σ_i s_i g_i, updated by Σ_i s_i c_i.
// With t_i = ∇f_i(x^{t+1}) and s_i = p_i this is EF21; EF21-W (arXiv 2402.10774) is the same state
// with t_i = ∇f_i/(n w_i) (generally p_i ∇f_i / w_i) and s_i = w_i (see CompressedUplink).
#include "distopt/compress/feedback.hpp"

namespace distopt {

/// EF21's (and EF21-W's) per-agent state: g_i, mirrored by the server. Checkpointed as
/// agent/\<id\>/\<prefix\>/g and .../started.
class Ef21State : public AgentFeedback {
 public:
  /// g_i = 0 of dimension `dim`, not started (the first message travels uncompressed).
  explicit Ef21State(Index dim) : g_(Vector::Zero(dim)) {}
  bool prepare(const Vector& t, Vector& u) override {
    if (!started_) {
      u = t;
      return true;
    }
    u = t - g_;
    return false;
  }
  void commit(const Vector& /*t*/, const Vector& /*u*/, const Vector& c) override {
    if (!started_) {
      g_ = c;  // the uncompressed g⁰ as received (rounded to the wire precision)
      started_ = true;
    } else {
      g_ += c;
    }
  }
  const Vector* server_memory() const override { return &g_; }
  void save(StateArchive& out, Index agent, const std::string& prefix) const override;
  void load(const StateArchive& in, Index agent, const std::string& prefix) override;
  bool started() const { return started_; }  ///< true once g⁰ has been sent

 private:
  Vector g_;
  bool started_ = false;
};

}  // namespace distopt
