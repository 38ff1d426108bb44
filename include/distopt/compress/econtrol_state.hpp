#pragma once
// EControl (Gao, Islamov, Stich, arXiv 2311.05645), ALGORITHMS.md §2, per worker with feedback
// strength η (--econtrol-eta):
//   Δ_i = C(η e_i + t_i − h_i),  e_i ← e_i + t_i − h_i − Δ_i,  h_i ← h_i + Δ_i,
// one compressed message Δ_i builds both the error e_i and the estimator h_i; the server keeps
// h = Σ_i s_i h_i (updated by Σ_i s_i Δ_i) and the method steps along it. e_i⁰ = 0.
//
// h_i⁰ (--econtrol-init): the EControl authors' public code starts h_i⁰ = ∇f_i(x⁰) (the server
// then knows h⁰ = Σ s_i ∇f_i(x⁰), so the first message is the dense gradient, as EF21's g⁰).
// That is the default (`gradient`): the first round sends t_i⁰ uncompressed, h_i ← t_i⁰ as
// received and e_i stays 0 (equivalently, the code's first compressed message C(η·0 + ∇f_i(x⁰)
// − h_i⁰) = C(0) = 0 is skipped). `zero` keeps h_i⁰ = 0: every message is compressed, and the
// estimator needs ~1/δ rounds to build up (δ = the compressor's contraction, k/d for Top-k).
#include "distopt/compress/feedback.hpp"

namespace distopt {

/// EControl's per-agent state: the error e_i and the estimator h_i (the server's memory).
/// Checkpointed as agent/\<id\>/\<prefix\>/e, .../h and .../started.
class EControlState : public AgentFeedback {
 public:
  /// e_i⁰ = 0 of dimension `dim`, feedback strength `eta` (η >= 0, --econtrol-eta); h_i⁰ the
  /// first target sent dense if `init_gradient`, else h_i⁰ = 0.
  EControlState(Index dim, double eta, bool init_gradient = true)
      : eta_(eta), e_(Vector::Zero(dim)), h_(Vector::Zero(dim)), started_(!init_gradient) {}
  bool prepare(const Vector& t, Vector& u) override {
    if (!started_) {
      u = t;
      return true;
    }
    u = eta_ * e_ + t - h_;
    return false;
  }
  void commit(const Vector& t, const Vector& /*u*/, const Vector& c) override {
    if (!started_) {
      h_ = c;  // h_i⁰ = ∇f_i(x⁰) as the server received it (rounded to the wire precision)
      started_ = true;
      return;
    }
    e_ += t - h_ - c;
    h_ += c;
  }
  const Vector* server_memory() const override { return &h_; }
  void save(StateArchive& out, Index agent, const std::string& prefix) const override;
  void load(const StateArchive& in, Index agent, const std::string& prefix) override;
  const Vector& error() const { return e_; }  ///< e_i
  bool started() const { return started_; }   ///< true once h_i⁰ is set

 private:
  double eta_;
  Vector e_, h_;
  bool started_;
};

}  // namespace distopt
