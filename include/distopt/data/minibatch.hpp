#pragma once
// Minibatches: draw rows of an agent's shard without replacement within a batch and gather them
// into scratch storage reused from call to call (no allocation once a batch of the same size
// has been drawn), so the inner loop of local training does not touch the allocator.
#include <vector>

#include "distopt/core/random.hpp"
#include "distopt/data/dataset.hpp"

namespace distopt {

/// Draws minibatches from an agent's shard into reusable scratch storage. One per agent (or per
/// loop): the block draw() returns stays valid only until the next draw().
class MinibatchSampler {
 public:
  /// Draws min(batch, shard.rows()) distinct rows of `shard` with `rng` and returns them as a
  /// block of the scratch dataset (valid until the next call). The rows are in increasing order.
  DataBlock draw(const DataBlock& shard, Index batch, RandomStream& rng);
  /// The rows of the last batch, relative to the shard.
  const std::vector<Index>& indices() const { return picked_; }

 private:
  void sample(Index n, Index k, RandomStream& rng);
  std::vector<Index> picked_;   // relative to the shard
  std::vector<Index> absolute_; // rows of the shard's dataset
  std::vector<Index> table_;    // open-addressing set for Floyd's algorithm
  Dataset scratch_;
};

}  // namespace distopt
