#pragma once
// Weighted sum over agents of per-agent vectors: out = Σ_a w_a v_a, where each rank contributes
// its local agents. Two reductions:
//  * kAllreduce (default): each rank sums its agents in agent order, then one MPI_Allreduce. The
//    result differs across rank counts only by floating-point reassociation (~1e-16 relative).
//  * kOrdered: every contribution is gathered (allgatherv) and summed in global agent order on
//    every rank, so the result is bitwise identical at any number of ranks, at the price of
//    moving one vector per agent instead of one per rank.
#include <cstdint>
#include <vector>

#include "distopt/comm/communicator.hpp"

namespace distopt {

/// How AgentSum reduces over ranks: kAllreduce (one MPI_Allreduce, reassociation-level
/// differences across rank counts) or kOrdered (bitwise identical at any rank count); see above.
enum class Reduction { kAllreduce, kOrdered };
/// Parses the `reduction` option: "allreduce" or "ordered"; ConfigError("reduction") otherwise.
Reduction reduction_from_string(const std::string& s);  // "allreduce" | "ordered"

/// Accumulates out = Σ_a w_a v_a over the agents of every rank (see the file comment). Reusable:
/// reset(), add() for each local agent, finish() on every rank.
class AgentSum {
 public:
  /// A sum over `comm` reduced with `mode`; `comm` must outlive the AgentSum.
  AgentSum(Communicator& comm, Reduction mode) : comm_(comm), mode_(mode) {}
  /// Starts a new sum of `dim`-vectors. Keeps buffers between uses (no reallocation).
  void reset(Index dim);
  /// Adds w * v for a local agent. Agents must come in increasing order and v must have the
  /// dimension given to reset(); Error otherwise.
  void add(Index agent, const Eigen::Ref<const Vector>& v, double w = 1.0);
  /// Collective: out = Σ over all ranks' added agents (resized to dim; zero if none was added).
  void finish(Vector& out);
  /// The reduction this sum uses.
  Reduction mode() const { return mode_; }

 private:
  Communicator& comm_;
  Reduction mode_;
  Index dim_ = 0;
  Index last_agent_ = -1;
  Vector local_;                      // kAllreduce: running local sum
  std::vector<double> packed_;        // kOrdered: [agent, w*v...] records
  GatheredBytes gathered_;
};

}  // namespace distopt
