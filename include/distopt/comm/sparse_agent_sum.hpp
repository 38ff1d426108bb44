#pragma once
// Weighted sum over agents of SPARSE per-agent vectors, out = Σ_a w_a v_a, where each agent's v_a
// is nonzero on a few coordinates only (a bilevel block whose mixed product touches only its
// batch's per-sample weights; ../shared/notes/bilevel-anchors.md §2: "use sparse allgather of
// (index, value) pairs instead of a dense allreduce"). The dense twin is AgentSum
// (comm/agent_sum.hpp); the result is the same dense vector.
//
// Wire format of one record (all little-endian host order, packed without padding):
//     uint32 nnz | nnz × uint32 index | nnz × float64 value
// so a record costs record_bytes(nnz) = 4 + 12 nnz bytes. Both reductions move records with ONE
// allgatherv (plus its count exchange):
//  * kOrdered: one record per agent; every rank adds every record in global agent order
//    (ranks hold contiguous agent ranges, so rank order is agent order). Each coordinate is thus
//    summed over the agents in increasing order starting from +0, which is exactly what the
//    ordered dense AgentSum computes for the scattered vectors: the same bits at any rank count,
//    and the same bits as AgentSum on the dense vectors.
//  * kAllreduce: each rank first merges its agents into ONE record (the union of their indices,
//    entries summed in agent order), then the records are added in rank order. Differs across
//    rank counts by reassociation only, like AgentSum's kAllreduce.
// Dimensions must be below 2^32 (the index type of the wire).
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "distopt/comm/agent_sum.hpp"
#include "distopt/comm/communicator.hpp"

namespace distopt {

/// Accumulates out = Σ_a w_a v_a over the agents of every rank from (index, value) records (see
/// the file comment). Reusable: reset(), add() for each local agent, finish() on every rank.
class SparseAgentSum {
 public:
  /// A sum over `comm` reduced with `mode`; `comm` must outlive the SparseAgentSum.
  SparseAgentSum(Communicator& comm, Reduction mode) : comm_(comm), mode_(mode) {}
  /// Starts a new sum of `dim`-vectors (Error if dim ≥ 2^32). Keeps buffers between uses.
  void reset(Index dim);
  /// Adds w * v for a local agent, v given by its entries `value` at coordinates `index`
  /// (strictly increasing, in [0, dim)). Agents must come in increasing order; Error otherwise.
  void add(Index agent, std::span<const Index> index, std::span<const double> value,
           double w = 1.0);
  /// Collective: out = Σ over all ranks' added agents (resized to dim; zero if none was added).
  void finish(Vector& out);
  /// The bytes one record of `nnz` entries occupies on the wire: 4 + 12 nnz.
  static std::uint64_t record_bytes(Index nnz) {
    return sizeof(std::uint32_t) +
           static_cast<std::uint64_t>(nnz) * (sizeof(std::uint32_t) + sizeof(double));
  }
  /// The reduction this sum uses.
  Reduction mode() const { return mode_; }

 private:
  void pack(std::span<const std::uint32_t> index, std::span<const double> value);

  Communicator& comm_;
  Reduction mode_;
  Index dim_ = 0;
  Index last_agent_ = -1;
  std::vector<std::uint8_t> packed_;  // the records this rank sends
  // kAllreduce: this rank's (index, value) entries in add order, merged at finish().
  std::vector<std::pair<std::uint32_t, double>> local_;
  std::vector<std::uint32_t> index_scratch_;
  std::vector<double> value_scratch_;
  GatheredBytes gathered_;
};

}  // namespace distopt
