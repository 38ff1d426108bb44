#pragma once
// Error-feedback mechanisms (--feedback), ALGORITHMS.md §2. Each agent owns one AgentFeedback
// object (on the rank that owns the agent). For a round, the uplink hands it the agent's target
// vector t (its gradient or update, see CompressedUplink for EF21-W's scaling), the state says
// what to compress (prepare), the uplink encodes and decodes that message exactly as the server
// will, and the state updates itself from what the server received (commit).
//
// Stateless on the server (the server adds the decoded message c_a):  none, ef14.
// Tracked by the server (the server keeps Σ_a s_a m_a of the agents' memories m_a and adds the
// decoded messages to it): ef21, ef21w (m_a = g_a), econtrol (m_a = h_a).
#include <memory>
#include <string>

#include "distopt/core/types.hpp"
#include "distopt/method/state_archive.hpp"

namespace distopt {

enum class FeedbackKind { kNone, kEf14, kEf21, kEf21W, kEControl };
/// none | ef14 | ef21 | ef21w | econtrol; throws ConfigError("feedback", ...) otherwise.
FeedbackKind feedback_from_string(const std::string& s);
std::string to_string(FeedbackKind k);
/// True for mechanisms whose server keeps the sum of the agents' memories (ef21, ef21w, econtrol).
inline bool server_tracks(FeedbackKind k) {
  return k == FeedbackKind::kEf21 || k == FeedbackKind::kEf21W || k == FeedbackKind::kEControl;
}

class AgentFeedback {
 public:
  virtual ~AgentFeedback() = default;
  /// Sets u to the vector to send this round for target t. Returns true if u must travel
  /// uncompressed (EF21's g⁰ = ∇f_i(x⁰)), false if it goes through the compressor.
  virtual bool prepare(const Vector& t, Vector& u) = 0;
  /// Updates the state once the message is built: c is what the server decodes from it.
  virtual void commit(const Vector& t, const Vector& u, const Vector& c) = 0;
  /// The memory the server tracks for this agent (g_a or h_a); nullptr for server-stateless ones.
  virtual const Vector* server_memory() const { return nullptr; }
  /// Checkpoint under StateArchive::agent_key(agent, prefix + "/...").
  virtual void save(StateArchive& out, Index agent, const std::string& prefix) const = 0;
  virtual void load(const StateArchive& in, Index agent, const std::string& prefix) = 0;
};

/// The state of one agent for a mechanism (kNone has no state: returns nullptr).
std::unique_ptr<AgentFeedback> make_agent_feedback(FeedbackKind kind, Index dim, double econtrol_eta);

}  // namespace distopt
