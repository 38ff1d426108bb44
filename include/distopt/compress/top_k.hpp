#pragma once
// Top-k (ALGORITHMS.md §2): keeps the k coordinates of largest magnitude; ties are broken towards
// the lower index, so the choice is deterministic. Contractive with δ = k/d:
// ‖C(v) − v‖² ≤ (1 − k/d)‖v‖².
// Message: k indices (increasing; 4 bytes each when d ≤ 2³², else 8) then k values at the wire
// precision: k·(w + p) bytes.
#include "distopt/compress/compressor.hpp"

namespace distopt {

/// Top-k (see above): contractive with δ = k/d; deterministic.
class TopK : public Compressor {
 public:
  /// Of dimension `dim`, keeping k coordinates (1 ≤ k ≤ d, else Error); values at `precision`.
  TopK(Index dim, Index k, WirePrecision precision);
  std::string name() const override { return "topk:" + std::to_string(k_); }
  Index k() const { return k_; }  ///< the number of coordinates kept
  void encode(const Eigen::Ref<const Vector>& v, const CompressKey& key,
              std::vector<std::uint8_t>& out) override;
  void decode_add(std::span<const std::uint8_t> message, const CompressKey& key, double scale,
                  Eigen::Ref<Vector> out) const override;
  std::size_t message_bytes() const override {
    return static_cast<std::size_t>(k_) * (index_bytes_ + value_bytes(precision_));
  }
  bool unbiased() const override { return false; }
  double delta() const override { return static_cast<double>(k_) / static_cast<double>(dim_); }
  /// Width of one index on the wire.
  std::size_t index_bytes() const { return index_bytes_; }

 private:
  Index k_;
  std::size_t index_bytes_;
  std::vector<std::pair<double, std::uint64_t>> cand_;  // scratch: (magnitude, index) candidates
  // Scratch of the prefiltered path (kept across calls, so a step allocates nothing): the sample,
  // the candidates' indices and signed values in index order, and their magnitudes.
  std::vector<double> sample_, cval_, cmag_;
  std::vector<std::uint64_t> cidx_;
  std::vector<std::size_t> hist_;  // radix-select histogram
  /// The prefiltered selection (see encode); false when the sample was unlucky.
  bool encode_filtered(const Eigen::Ref<const Vector>& v, std::vector<std::uint8_t>& out);
};

}  // namespace distopt
