#pragma once
// Traffic accounting. Two views of communication are kept apart:
//  * logical traffic: what a real deployment of the agents would send, per agent and direction
//    (up = agent to server, down = server to agent, peer = agent to agent in gossip), counted by the
//    method at the size of the encoded message it actually builds;
//  * physical traffic: payload bytes this rank handed to MPI in this run (collectives count this
//    rank's contribution; point-to-point counts bytes sent), counted by the Communicator.
#include <cstdint>
#include <map>

#include "distopt/core/types.hpp"

namespace distopt {

/// Logical traffic of one agent, in bytes and messages per direction.
struct AgentTraffic {
  /// Bytes the agent sent to the server.
  std::uint64_t bytes_up = 0, messages_up = 0;  ///< messages the agent sent to the server
  /// Bytes the server sent to the agent.
  std::uint64_t bytes_down = 0, messages_down = 0;  ///< messages the server sent to the agent
  /// Bytes the agent sent to other agents (gossip).
  std::uint64_t bytes_peer = 0, messages_peer = 0;  ///< messages the agent sent to other agents
  /// Bytes in all three directions.
  std::uint64_t bytes() const { return bytes_up + bytes_down + bytes_peer; }
  /// Messages in all three directions.
  std::uint64_t messages() const { return messages_up + messages_down + messages_peer; }
  /// Adds `o`'s counters field by field.
  AgentTraffic& operator+=(const AgentTraffic& o);
};

/// This rank's traffic counters: logical traffic per local agent, and physical MPI traffic.
/// Not collective; each rank counts its own.
class Traffic {
 public:
  /// Counts `bytes` in `messages` messages sent by `agent` to the server.
  void add_up(Index agent, std::uint64_t bytes, std::uint64_t messages = 1);
  /// Counts `bytes` in `messages` messages sent by the server to `agent`.
  void add_down(Index agent, std::uint64_t bytes, std::uint64_t messages = 1);
  /// Counts `bytes` in `messages` messages sent by `agent` to its peers.
  void add_peer(Index agent, std::uint64_t bytes, std::uint64_t messages = 1);
  /// Counts `bytes` of payload handed to MPI in `calls` MPI calls (physical traffic).
  void add_mpi(std::uint64_t bytes, std::uint64_t calls = 1) {
    mpi_bytes_ += bytes;
    mpi_calls_ += calls;
  }

  /// Logical traffic of one local agent (zeros if it never communicated).
  AgentTraffic agent(Index agent) const;
  /// Sum over this rank's agents.
  AgentTraffic local_total() const;
  /// Logical traffic of every local agent that communicated, by agent id.
  const std::map<Index, AgentTraffic>& per_agent() const { return agents_; }
  /// Payload bytes this rank handed to MPI.
  std::uint64_t mpi_bytes() const { return mpi_bytes_; }
  /// MPI calls this rank made that were counted.
  std::uint64_t mpi_calls() const { return mpi_calls_; }

  /// For checkpoints: restore counters exactly.
  void restore(std::map<Index, AgentTraffic> agents, std::uint64_t mpi_bytes, std::uint64_t mpi_calls);

 private:
  std::map<Index, AgentTraffic> agents_;
  std::uint64_t mpi_bytes_ = 0;
  std::uint64_t mpi_calls_ = 0;
};

}  // namespace distopt
