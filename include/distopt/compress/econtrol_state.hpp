#pragma once
// EControl (Gao, Islamov, Stich, arXiv 2311.05645), ALGORITHMS.md §2, per worker with feedback
// strength η (--econtrol-eta):
//   Δ_i = C(η e_i + t_i − h_i),  e_i ← e_i + t_i − h_i − Δ_i,  h_i ← h_i + Δ_i,
// one compressed message Δ_i builds both the error e_i and the estimator h_i; the server keeps
// h = Σ_i s_i h_i (updated by Σ_i s_i Δ_i) and the method steps along it. e_i⁰ = h_i⁰ = 0.
#include "distopt/compress/feedback.hpp"

namespace distopt {

/// EControl's per-agent state: the error e_i and the estimator h_i (the server's memory).
/// Checkpointed as agent/\<id\>/\<prefix\>/e and .../h.
class EControlState : public AgentFeedback {
 public:
  /// e_i⁰ = h_i⁰ = 0 of dimension `dim`, feedback strength `eta` (η >= 0, --econtrol-eta).
  EControlState(Index dim, double eta) : eta_(eta), e_(Vector::Zero(dim)), h_(Vector::Zero(dim)) {}
  bool prepare(const Vector& t, Vector& u) override {
    u = eta_ * e_ + t - h_;
    return false;
  }
  void commit(const Vector& t, const Vector& /*u*/, const Vector& c) override {
    e_ += t - h_ - c;
    h_ += c;
  }
  const Vector* server_memory() const override { return &h_; }
  void save(StateArchive& out, Index agent, const std::string& prefix) const override;
  void load(const StateArchive& in, Index agent, const std::string& prefix) override;

 private:
  double eta_;
  Vector e_, h_;
};

}  // namespace distopt
