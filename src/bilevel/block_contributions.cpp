#include "distopt/bilevel/block_contributions.hpp"

namespace distopt {

bool uses_sparse_contributions(const BilevelProblem& problem) {
  return problem.sparse_cross() && problem.upper_independent_of_x();
}

BlockContributions::BlockContributions(Communicator& comm, Reduction reduction, bool sparse)
    : comm_(comm), sparse_(sparse), dense_sum_(comm, reduction), sparse_sum_(comm, reduction) {}

void BlockContributions::reset(Index dim) {
  dim_ = dim;
  if (sparse_) {
    sparse_sum_.reset(dim);
  } else {
    dense_sum_.reset(dim);
    dense_.resize(dim);
  }
}

void BlockContributions::add(Index block, double w, std::uint64_t down_dense,
                             std::uint64_t down_sparse) {
  std::uint64_t bytes = 0, down = 0;
  if (sparse_) {
    sparse_sum_.add(block, entries_.index, entries_.value, w);
    bytes = SparseAgentSum::record_bytes(entries_.size());
    down = down_sparse * bytes;
  } else {
    dense_sum_.add(block, dense_, w);
    bytes = static_cast<std::uint64_t>(dim_) * sizeof(double);
    down = down_dense * bytes;
  }
  comm_.traffic().add_up(block, bytes);
  comm_.traffic().add_down(block, down);
}

void BlockContributions::finish(Vector& out, PhaseTimes& times) {
  const double t0 = monotonic_seconds();
  if (sparse_) {
    sparse_sum_.finish(out);
  } else {
    dense_sum_.finish(out);
  }
  times.aggregation += monotonic_seconds() - t0;
}

}  // namespace distopt
