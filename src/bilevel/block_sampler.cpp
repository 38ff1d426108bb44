#include "distopt/bilevel/block_sampler.hpp"

#include <algorithm>
#include <numeric>
#include <string>

#include "distopt/core/check.hpp"
#include "distopt/core/error.hpp"
#include "distopt/core/random.hpp"

namespace distopt {

namespace {
// The agent slot of the block order's stream (no block has this id).
constexpr std::uint64_t kSamplerSlot = (1ull << 62) + 1;
// The agent slot of the stratified draw's stream.
constexpr std::uint64_t kStratifiedSlot = (1ull << 62) + 3;
}  // namespace

BlockSampling block_sampling_from_string(const std::string& s) {
  if (s == "uniform") return BlockSampling::kUniform;
  if (s == "stratified") return BlockSampling::kStratified;
  throw ConfigError("block-sampling", "must be uniform or stratified (got '" + s + "')");
}

const char* to_string(BlockSampling s) {
  return s == BlockSampling::kStratified ? "stratified" : "uniform";
}

void BlockSamplerOptions::validate() const {
  check::at_least("blocks-per-iter", blocks_per_iter, 1);
  check::at_least("block-batch", block_batch, 0);
}

BlockSampler::BlockSampler(const BilevelProblem& problem, const BlockSamplerOptions& options,
                           std::uint64_t seed)
    : m_(problem.blocks()),
      per_iter_(options.blocks_per_iter),
      batch_(options.block_batch),
      seed_(seed),
      sampling_(options.sampling) {
  options.validate();
  if (per_iter_ > m_) {
    throw ConfigError("blocks-per-iter", "must not exceed the number of blocks " +
                                             std::to_string(m_) + " (got " +
                                             std::to_string(per_iter_) + ")");
  }
  lower_rows_.resize(static_cast<std::size_t>(m_));
  upper_rows_.resize(static_cast<std::size_t>(m_));
  for (Index i = 0; i < m_; ++i) {
    const Index nl = problem.lower_rows(i), nu = problem.upper_rows(i);
    lower_rows_[static_cast<std::size_t>(i)] = nl;
    upper_rows_[static_cast<std::size_t>(i)] = nu;
    if (batch_ > std::min(nl, nu)) {
      throw ConfigError("block-batch", "must not exceed the rows of every block: block " +
                                           std::to_string(i) + " has " + std::to_string(nl) +
                                           " lower and " + std::to_string(nu) +
                                           " upper rows (got " + std::to_string(batch_) + ")");
    }
  }
  per_epoch_ = (m_ + per_iter_ - 1) / per_iter_;
  const Placement& pl = problem.placement();
  for (int r = 0; r < pl.ranks(); ++r) {
    rank_first_.push_back(pl.first(r));
    rank_count_.push_back(pl.count(r));
  }
}

void BlockSampler::stratified(std::int64_t iteration) {
  RandomStream rng(seed_, kStratifiedSlot, static_cast<std::uint64_t>(iteration),
                   Purpose::kSampling);
  // Quotas q_r = ⌊I n_r / m⌋ and remainders ρ_r = I n_r mod m (Σ ρ_r = R m); systematic points
  // U + k m, k < R, on the cumulative remainders give the R extra blocks.
  const auto u = static_cast<Index>(rng.uniform_int(static_cast<std::uint64_t>(m_)));
  out_.clear();
  Index cum = 0, next_point = u;
  for (std::size_t r = 0; r < rank_count_.size(); ++r) {
    const Index n = rank_count_[r];
    Index quota = per_iter_ * n / m_;
    const Index rho = per_iter_ * n % m_;
    if (rho > 0 && next_point < cum + rho) {  // at most one point: ρ_r < m
      ++quota;
      next_point += m_;
    }
    cum += rho;
    for (Index pos : rng.sample_without_replacement(n, quota)) out_.push_back(rank_first_[r] + pos);
  }
}

void BlockSampler::make_epoch(std::int64_t epoch) {
  RandomStream rng(seed_, kSamplerSlot, static_cast<std::uint64_t>(epoch), Purpose::kSampling);
  perm_.resize(static_cast<std::size_t>(m_));
  std::iota(perm_.begin(), perm_.end(), Index{0});
  rng.shuffle(perm_.begin(), perm_.end());
  fill_.clear();
  const Index rest = m_ % per_iter_;
  if (rest != 0) {
    // The last iteration's I − r extra blocks, among the m − r blocks of the full iterations.
    const Index others = m_ - rest;
    for (Index pos : rng.sample_without_replacement(others, per_iter_ - rest)) {
      fill_.push_back(perm_[static_cast<std::size_t>(pos)]);
    }
  }
  cached_epoch_ = epoch;
}

const std::vector<Index>& BlockSampler::blocks(std::int64_t iteration) {
  if (iteration < 1) throw Error("BlockSampler: iterations are 1-based");
  if (sampling_ == BlockSampling::kStratified) {
    stratified(iteration);
    std::sort(out_.begin(), out_.end());
    return out_;
  }
  const std::int64_t epoch = epoch_of(iteration);
  const std::int64_t q = (iteration - 1) % per_epoch_;
  if (epoch != cached_epoch_) make_epoch(epoch);
  const auto begin = static_cast<std::size_t>(q * per_iter_);
  const auto end = std::min(begin + static_cast<std::size_t>(per_iter_), perm_.size());
  out_.assign(perm_.begin() + static_cast<std::ptrdiff_t>(begin),
              perm_.begin() + static_cast<std::ptrdiff_t>(end));
  if (q == per_epoch_ - 1) out_.insert(out_.end(), fill_.begin(), fill_.end());
  std::sort(out_.begin(), out_.end());
  return out_;
}

void BlockSampler::batch(std::int64_t iteration, Index block, BlockBatch& out) const {
  if (iteration < 1) throw Error("BlockSampler: iterations are 1-based");
  if (block < 0 || block >= m_) throw Error("BlockSampler: no block " + std::to_string(block));
  out.lower.clear();
  out.upper.clear();
  if (batch_ == 0) return;
  RandomStream rng(seed_, static_cast<std::uint64_t>(block), static_cast<std::uint64_t>(iteration),
                   Purpose::kMinibatch);
  out.lower = rng.sample_without_replacement(lower_rows_[static_cast<std::size_t>(block)], batch_);
  out.upper = rng.sample_without_replacement(upper_rows_[static_cast<std::size_t>(block)], batch_);
}

}  // namespace distopt
