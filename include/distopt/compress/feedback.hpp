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
#include <functional>
#include <memory>
#include <string>

#include "distopt/compress/link_options.hpp"
#include "distopt/core/registry.hpp"
#include "distopt/core/types.hpp"
#include "distopt/method/state_archive.hpp"

namespace distopt {

/// One agent's error-feedback state (held on the agent's rank): prepare() says what to send for a
/// target, commit() updates the state from what the server decoded.
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
  /// Restores what save() put for `agent`; InputError if a key is missing or of the wrong
  /// dimension.
  virtual void load(const StateArchive& in, Index agent, const std::string& prefix) = 0;
};

/// Which theoretical step size --lr theory uses with a mechanism (compress/step_size.hpp).
enum class TheoryStep {
  kNone,   ///< no theory: --lr theory is an error
  kEf21,   ///< EF21, Thm. 1: L_QM
  kEf21W,  ///< EF21-W: L_AM
};

/// A feedback mechanism, as the feedback registry holds it.
struct FeedbackMechanism {
  /// The server keeps Σ_a s_a m_a of the agents' memories (ef21, ef21w, econtrol).
  bool server_tracks = false;
  /// Agents are weighted by their smoothness, ω_a = p_a L_a / Σ_b p_b L_b (ef21w).
  bool smoothness_weights = false;
  /// The step --lr theory computes.
  TheoryStep theory = TheoryStep::kNone;
  /// The state of one agent of dimension dim; nullptr for "none" (no state, no feedback).
  std::function<std::unique_ptr<AgentFeedback>(Index dim, const UplinkOptions& options)> make_state;
  /// True for "none".
  bool stateless() const { return !make_state; }
};

/// --feedback: none, ef14, ef21, ef21w, econtrol, and what user code adds.
Registry<FeedbackMechanism>& feedback_registry();
/// The mechanism named `name`; ConfigError("feedback", "unknown ... (known: ...)") otherwise.
const FeedbackMechanism& feedback_mechanism(const std::string& name);

}  // namespace distopt
