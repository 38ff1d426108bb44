#pragma once
// PowerSGD (Vogels, Karimireddy, Jaggi, arXiv 1905.13727, Alg. 1 with error feedback and warm
// start), ALGORITHMS.md §2, over the model's ParameterLayout (--compressor powersgd:<rank>).
//
// For each matrix-shaped block b (n×m, row-major in the flat vector) where r(n+m) < nm, with every
// submitting agent a holding M_a = w_a v_a + e_a (its weighted block plus its error memory):
//   P = Σ_a M_a Q            (sum over agents: AgentSum, i.e. allreduce of the linear factor)
//   P ← orthonormalise(P)    (Gram–Schmidt on the columns, identical on every rank)
//   Q = Σ_a M_aᵀ P           (second sum)
//   estimate_b = P Qᵀ,   e_a ← M_a − P Q_aᵀ   (each agent's residual; Σ_a e_a equals the
//                                             reference code's Σ_a (M_a − P Qᵀ/n))
// and Q is kept for the next round (warm start); the first Q is standard normal from the stream
// (seed, block, 0, kCompressor), shared by every rank. Vector blocks (biases) and matrix blocks
// too small to gain travel uncompressed inside the first sum and carry no error.
// Logical upload per agent and round: (Σ_b r(n_b+m_b) + uncompressed coordinates) values at the
// wire precision, in two messages; the factors are rounded to the wire precision before summing.
// Agents that do not submit in a round keep their memory (partial participation).
#include <map>
#include <vector>

#include "distopt/comm/agent_sum.hpp"
#include "distopt/comm/placement.hpp"
#include "distopt/compress/uplink.hpp"
#include "distopt/compress/wire.hpp"
#include "distopt/model/parameter_layout.hpp"

namespace distopt {

/// PowerSGD as an uplink of its own (see above): rank-r factors of every matrix block, summed with
/// two AgentSums, per-agent error memory, warm-started Q. Not combinable with --feedback.
class PowerSgdUplink : public Uplink {
 public:
  /// Compresses the matrix blocks of `layout` at rank `rank` (r = min(rank, n, m) per block);
  /// draws the first Q from `seed`. ConfigError("compressor") if rank < 1 or no block of the
  /// layout gains from rank r (r(n+m) < nm).
  PowerSgdUplink(Communicator& comm, Reduction reduction, const Placement& placement,
                 const ParameterLayout& layout, Index rank, WirePrecision precision,
                 std::uint64_t seed);
  std::string name() const override { return "powersgd:" + std::to_string(rank_); }
  void begin(Index dim) override;
  void submit(Index agent, const Eigen::Ref<const Vector>& v, double weight) override;
  void finish(Vector& estimate) override;
  void save(StateArchive& out, const std::string& prefix) const override;
  void load(const StateArchive& in, const std::string& prefix) override;

  /// Values one agent uploads per round (both messages).
  Index values_per_agent() const { return values_p_ + values_q_; }
  /// d / values_per_agent(): the compression ratio of the upload.
  double compression_ratio() const;

 private:
  struct Block {
    std::size_t index;  // in the layout
    Index offset, n, m, r;
    RowMatrix q;  // m×r warm-started query (replicated)
  };
  Communicator& comm_;
  Placement placement_;
  ParameterLayout layout_;
  Index rank_;
  WirePrecision precision_;
  std::vector<Block> blocks_;                   // compressed blocks
  std::vector<std::pair<Index, Index>> dense_;  // uncompressed ranges (offset, size)
  Index values_p_ = 0, values_q_ = 0;  // per agent: first message (P factors + dense), second (Q)
  AgentSum sum_p_, sum_q_;
  std::map<Index, Vector> memory_;   // e_a of local agents (zero outside compressed blocks)
  std::map<Index, Vector> pending_;  // M_a of local agents (storage kept across rounds)
  std::vector<Index> submitted_;     // this round's local submitters, increasing
  Vector payload_, p_sum_, q_sum_;
  std::uint64_t step_ = 0;
};

}  // namespace distopt
