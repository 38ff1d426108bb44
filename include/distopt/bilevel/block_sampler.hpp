#pragma once
// Which blocks and which samples an iteration of a stochastic bilevel method touches
// (ALGORITHMS.md §4: "each iteration samples I blocks (without replacement, epoch-shuffled) and B
// samples per sampled block"; the BSVRB code walks an epoch-wise shuffled order of the tasks).
//
// Blocks. An epoch is a uniformly random permutation π_e of [m], drawn from the stream
// (seed, sampler slot, e, Purpose::kSampling), consumed I blocks at a time: an epoch has
// E = ⌈m/I⌉ iterations, and iteration t (1-based) belongs to epoch e = ⌊(t−1)/E⌋ at position
// q = (t−1) mod E. Position q < E−1, or any q when I divides m, takes π_e[qI .. qI+I).
// When I does not divide m, the last iteration of an epoch takes the r = m mod I blocks left,
// π_e[(E−1)I .. m), and fills up to I with I − r blocks drawn uniformly without replacement from
// the m − r others of the epoch (same stream, after the permutation). So every iteration has
// exactly I distinct blocks, every block is sampled at least once per epoch, and, by symmetry of
// the permutation, every block has the same distribution of draws (expected 1 + (I−r)/m per
// epoch).
//
// Stratified (`--block-sampling stratified`, BlockSampling::kStratified): the draw follows the
// placement so that every rank gets its share of the I blocks and no rank waits for another
// (../shared/notes/bilevel-anchors.md §2: "draw I/P blocks per rank (stratified) ... needs no
// state migration"). Rank r, holding n_r of the m blocks, gets q_r = ⌊I n_r / m⌋ blocks plus one
// more with probability ρ_r / m, ρ_r = I n_r mod m, by systematic sampling (one integer U uniform
// in [0, m) per iteration; rank r gets its extra block iff one of U, U + m, ..., U + (R−1) m falls
// in [Σ_{s<r} ρ_s, Σ_{s≤r} ρ_s), R = Σ ρ_r / m): exactly I blocks in total, and every block is
// sampled with probability I/m at every iteration, as in the uniform draw. Within its range rank
// r's blocks are drawn uniformly without replacement. Everything comes from the stream
// (seed, stratified slot, t, Purpose::kSampling), computed identically on every rank; it depends
// on the placement, so the trajectory (unlike the default's) changes with the rank count, and
// there is no epoch structure (a block may wait longer than one epoch).
//
// Samples. Sampled block i at iteration t draws B distinct lower (training) rows and then B
// distinct upper (validation) rows from the stream (seed, i, t, Purpose::kMinibatch). B = 0 means
// every row (full batches).
//
// Everything is a pure function of (seed, t) (and of i): independent of the placement, of the rank
// count, of earlier calls and of resuming, so no sampler state goes into checkpoints.
#include <cstdint>
#include <string>
#include <vector>

#include "distopt/bilevel/bilevel_problem.hpp"
#include "distopt/core/types.hpp"

namespace distopt {

/// How the I blocks of an iteration are drawn (see the file comment).
enum class BlockSampling {
  kUniform,     ///< "uniform": epoch-shuffled over all m blocks, independent of the placement
  kStratified,  ///< "stratified": each rank gets its share of the I blocks (load balance)
};
/// "uniform" | "stratified"; ConfigError("block-sampling") otherwise.
BlockSampling block_sampling_from_string(const std::string& s);
/// The name block_sampling_from_string() reads.
const char* to_string(BlockSampling s);

/// Typed options of the block sampler (the command-line keys in parentheses).
struct BlockSamplerOptions {
  /// I: blocks sampled per iteration, in [1, m] ("blocks-per-iter", default 10, the BSVRB
  /// code's `task_batch_size`).
  Index blocks_per_iter = 10;
  /// B: samples per sampled block and level, in [0, rows of every block]; 0 means every row
  /// ("block-batch", default 32, the BSVRB code's `data_batch_size`).
  Index block_batch = 32;
  /// How blocks are drawn ("block-sampling", default uniform: the same trajectory at any rank
  /// count; stratified balances the blocks over the ranks).
  BlockSampling sampling = BlockSampling::kUniform;
  /// Throws ConfigError("blocks-per-iter" | "block-batch") for values below their minimum; the
  /// bounds that need the problem are checked by the BlockSampler constructor.
  void validate() const;
};

/// One sampled block's rows at one iteration.
struct BlockBatch {
  std::vector<Index> lower;  ///< lower (training) row indices, increasing; empty: every row
  std::vector<Index> upper;  ///< upper (validation) row indices, increasing; empty: every row
  /// The lower rows as a SampleBatch (valid while this object is).
  SampleBatch lower_batch() const {
    return lower.empty() ? SampleBatch::all() : SampleBatch(std::span<const Index>(lower));
  }
  /// The upper rows as a SampleBatch (valid while this object is).
  SampleBatch upper_batch() const {
    return upper.empty() ? SampleBatch::all() : SampleBatch(std::span<const Index>(upper));
  }
};

/// Draws the sampled blocks and their batches of each iteration, identically on every rank.
class BlockSampler {
 public:
  /// Throws ConfigError("blocks-per-iter") unless 1 ≤ I ≤ m, and ConfigError("block-batch")
  /// unless 0 ≤ B ≤ the upper and lower row counts of every block.
  BlockSampler(const BilevelProblem& problem, const BlockSamplerOptions& options,
               std::uint64_t seed);

  /// The I blocks of iteration `iteration` (≥ 1), in increasing order. The reference stays valid
  /// until the next call. Stratified sampling uses the problem's placement (at construction).
  const std::vector<Index>& blocks(std::int64_t iteration);
  /// The rows block `block` uses at iteration `iteration` (whether or not it is sampled then).
  void batch(std::int64_t iteration, Index block, BlockBatch& out) const;

  /// E = ⌈m/I⌉, the iterations of one epoch (of the uniform draw).
  std::int64_t iterations_per_epoch() const { return per_epoch_; }
  /// The epoch (0-based) iteration `iteration` belongs to.
  std::int64_t epoch_of(std::int64_t iteration) const { return (iteration - 1) / per_epoch_; }
  /// m.
  Index blocks() const { return m_; }
  /// I.
  Index blocks_per_iter() const { return per_iter_; }
  /// B (0: every row).
  Index block_batch() const { return batch_; }

 private:
  void make_epoch(std::int64_t epoch);
  void stratified(std::int64_t iteration);

  Index m_, per_iter_, batch_;
  std::uint64_t seed_;
  BlockSampling sampling_;
  std::vector<Index> rank_first_, rank_count_;  // the placement's ranges (stratified)
  std::int64_t per_epoch_;
  std::vector<Index> lower_rows_, upper_rows_;
  std::int64_t cached_epoch_ = -1;
  std::vector<Index> perm_;  // π_e of the cached epoch
  std::vector<Index> fill_;  // the last iteration's fill-up blocks of the cached epoch
  std::vector<Index> out_;
};

}  // namespace distopt
