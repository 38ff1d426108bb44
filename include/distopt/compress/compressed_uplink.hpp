#pragma once
// An uplink that compresses each agent's vector and applies error feedback (ALGORITHMS.md §2).
//
// Per round (see Uplink): every submitting agent a, on its own rank, turns its target into a
// message through its feedback state and the compressor, counts the message's bytes as its
// logical upload, and appends a record [agent, server weight, kind, length, message] to the
// rank's buffer. finish() moves the buffers with one allgatherv of bytes (sparse and quantised
// messages travel encoded, never as dense vectors), and every rank decodes every record in agent
// order, so the result is bitwise the same on every rank and at any number of ranks.
//
// Weights. submit(a, v, w) asks for the server's estimate of Σ_a w_a v_a:
//   none, ef14:     Σ_a w_a c_a with c_a the decoded message of a;
//   ef21, econtrol: Σ_a w_a m_a, m_a = g_a (EF21) or h_a (EControl) after this round's message;
//   ef21w:          Σ_a ω_a g_a, where agent a tracks t_a = (w_a/ω_a) v_a and ω_a = p_a L_a/Σ_b p_b L_b
//                   (EF21-W, arXiv 2402.10774, generalised from p = 1/n to weights p_a; with p = 1/n
//                   t_a = ∇f_a/(n ω_a) exactly as in the paper).
// For unbiased compressors used with feedback the decoded message is scaled by 1/(ω+1)
// (the contractive form, Compressor::contractive_scale); without feedback it is used as is.
//
// Partial participation (federated rounds where only some agents submit):
//   * agents that do not submit keep their state untouched (error memories are not decayed);
//   * the estimate is always over the agents that submitted this round, with their weights;
//   * ef21/ef21w/econtrol: when every agent submits with the same weights as the round before,
//     the server's Σ s_a m_a is updated from the messages alone; otherwise the server sums the
//     memories m_a of the submitting agents (its copies of them), which in this simulation are held
//     by the agents' ranks: a dense reduction of server-side memory, counted in MPI bytes but not
//     as logical traffic (no agent sends anything beyond its compressed message).
#include <memory>
#include <string>
#include <vector>

#include "distopt/comm/placement.hpp"
#include "distopt/compress/compressor.hpp"
#include "distopt/compress/feedback.hpp"
#include "distopt/compress/uplink.hpp"

namespace distopt {

/// What a CompressedUplink is built from (make_uplink() fills it from UplinkOptions).
struct CompressedUplinkOptions {
  std::string compressor = "none";                    ///< --compressor spec (a vector compressor)
  std::string feedback = "none";                      ///< --feedback name (feedback_registry())
  WirePrecision precision = WirePrecision::kFloat64;  ///< --wire-precision
  double econtrol_eta = 0.1;  ///< --econtrol-eta η >= 0 (ConfigError("econtrol-eta"))
  bool econtrol_init_gradient = true;  ///< --econtrol-init gradient (true) | zero
  std::uint64_t seed = 1;     ///< run seed, already mixed with the stream name
  /// EF21-W weights ω_a of every agent (Σ = 1); required for kEf21W.
  std::vector<double> ef21w_weights;
};

/// The uplink of a vector compressor with an optional error-feedback mechanism (see above).
class CompressedUplink : public Uplink {
 public:
  /// `dim` builds the compressor now, so bad specs fail before training (ConfigError).
  /// `placement` tells which agents are this rank's; `reduction` is used for the partial-
  /// participation sum of server memories.
  CompressedUplink(Communicator& comm, Reduction reduction, const Placement& placement, Index dim,
                   CompressedUplinkOptions options);
  std::string name() const override;
  void begin(Index dim) override;
  void submit(Index agent, const Eigen::Ref<const Vector>& v, double weight) override;
  void finish(Vector& estimate) override;
  void save(StateArchive& out, const std::string& prefix) const override;
  void load(const StateArchive& in, const std::string& prefix) override;

  const Compressor& compressor() const { return *compressor_; }  ///< the vector compressor
  /// Rounds begun so far (the step of the compression keys).
  std::uint64_t step() const { return step_; }

 private:
  CompressKey key(Index agent) const { return {opt_.seed, agent, step_}; }

  Communicator& comm_;
  AgentSum memory_sum_;  // partial participation: server memories of the submitting agents
  Placement placement_;
  Index n_agents_;
  CompressedUplinkOptions opt_;
  const FeedbackMechanism* feedback_ = nullptr;  // from the registry (entries are never removed)
  /// A new agent's feedback state.
  std::unique_ptr<AgentFeedback> make_state() const;
  std::unique_ptr<Compressor> compressor_;
  std::unique_ptr<Compressor> dense_;  // EF21's uncompressed first message
  Index dim_ = 0;
  std::uint64_t step_ = 0;
  std::map<Index, std::unique_ptr<AgentFeedback>> states_;  // local agents that have submitted

  // Round buffers.
  std::vector<std::uint8_t> pack_;
  std::vector<std::pair<Index, double>> local_submitters_;  // (agent, server weight)
  GatheredBytes gathered_;
  Vector t_, u_, c_;

  // Server state of tracked mechanisms: G = Σ_a s_a m_a over all agents with weights tracked_w_.
  Vector tracked_;
  std::vector<double> tracked_w_;  // empty: every memory is still zero (G = 0 for any weights)
  bool tracked_valid_ = true;
};

}  // namespace distopt
