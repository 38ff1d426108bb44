#pragma once
// One iteration's contributions of the sampled blocks to the update of x, shared by the
// stochastic bilevel methods (BSVRB, F2SA, stocBiO; ALGORITHMS.md §4): every sampled block adds
// one vector of dim(x), and the sum over the sampled blocks of every rank is what x's update
// uses. The vectors are dense (AgentSum), or sparse (IndexedVector records, SparseAgentSum) when
// the problem's x-derivatives of g_i live on the batch's rows and f_i ignores x
// (uses_sparse_contributions): per-sample weights, where a dense d-vector per block would cost
// O(dim x) per block for B nonzeros. With Reduction::kOrdered both give the same bits, at any
// rank count (comm/sparse_agent_sum.hpp). Each contribution is counted as logical traffic: its
// size up (dim(x) doubles, or its record's bytes), and down the x entries the block read, as a
// number of copies of that size given by the method.
#include <cstdint>

#include "distopt/bilevel/bilevel_metrics.hpp"
#include "distopt/bilevel/bilevel_problem.hpp"
#include "distopt/comm/agent_sum.hpp"
#include "distopt/comm/communicator.hpp"
#include "distopt/comm/sparse_agent_sum.hpp"

namespace distopt {

/// True when a method should aggregate `problem`'s block contributions sparsely: its mixed
/// products are sparse (sparse_cross()) and f_i does not depend on x (upper_independent_of_x()).
bool uses_sparse_contributions(const BilevelProblem& problem);

/// The sum of the sampled blocks' contributions of one iteration (see the file comment).
/// Reusable: reset(), then for each sampled local block in increasing order write its
/// contribution into dense() or entries() (as sparse()) and add(); then finish() on every rank.
class BlockContributions {
 public:
  /// A sum over `comm` (which must outlive it) with `reduction`, sparse or dense.
  BlockContributions(Communicator& comm, Reduction reduction, bool sparse);
  /// Whether contributions are IndexedVector records.
  bool sparse() const { return sparse_; }
  /// Starts the sum of an iteration, of vectors of dimension `dim`.
  void reset(Index dim);
  /// The buffer of the next dense contribution (resized to dim).
  Vector& dense() { return dense_; }
  /// The buffer of the next sparse contribution.
  IndexedVector& entries() { return entries_; }
  /// Adds w × the contribution in the buffer of local block `block` and counts its traffic: its
  /// size up, and `down_dense` (dense) or `down_sparse` (sparse) copies of its size down.
  void add(Index block, double w, std::uint64_t down_dense, std::uint64_t down_sparse);
  /// Collective: out = the sum over every rank's added blocks; its wall time (including the wait
  /// for the slowest rank) is added to times.aggregation.
  void finish(Vector& out, PhaseTimes& times);

 private:
  Communicator& comm_;
  bool sparse_;
  Index dim_ = 0;
  AgentSum dense_sum_;
  SparseAgentSum sparse_sum_;
  Vector dense_;
  IndexedVector entries_;
};

/// The oracle counts of per-block states (any range of objects with a `counts` member), summed.
template <class States>
OracleCounts total_counts(const States& states) {
  OracleCounts n;
  for (const auto& s : states) n += s.counts;
  return n;
}

/// The oracle counts of per-block states, one entry per state (for bilevel_exact_metrics).
template <class States>
std::vector<OracleCounts> counts_of(const States& states) {
  std::vector<OracleCounts> c;
  c.reserve(states.size());
  for (const auto& s : states) c.push_back(s.counts);
  return c;
}

}  // namespace distopt
