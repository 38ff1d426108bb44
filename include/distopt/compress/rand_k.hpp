#pragma once
// Rand-k (ALGORITHMS.md §2): k coordinates drawn uniformly without replacement, scaled by d/k, so
// E C(v) = v and ω = d/k − 1. The indices come from the stream keyed by (seed, agent, step,
// Purpose::kCompressor); the receiver regenerates them, so only the k values travel.
// Message: k values at the wire precision (in increasing index order): k·p bytes.
#include "distopt/compress/compressor.hpp"

namespace distopt {

/// Rand-k (see above): k random coordinates scaled by d/k; unbiased, ω = d/k − 1.
class RandK : public Compressor {
 public:
  /// Of dimension `dim`, keeping k coordinates (1 ≤ k ≤ d, else Error); values at `precision`.
  RandK(Index dim, Index k, WirePrecision precision);
  std::string name() const override { return "randk:" + std::to_string(k_); }
  Index k() const { return k_; }  ///< the number of coordinates sent
  void encode(const Eigen::Ref<const Vector>& v, const CompressKey& key,
              std::vector<std::uint8_t>& out) override;
  void decode_add(std::span<const std::uint8_t> message, const CompressKey& key, double scale,
                  Eigen::Ref<Vector> out) const override;
  std::size_t message_bytes() const override {
    return static_cast<std::size_t>(k_) * value_bytes(precision_);
  }
  bool unbiased() const override { return true; }
  double omega() const override { return static_cast<double>(dim_) / static_cast<double>(k_) - 1.0; }
  /// The k indices of this key (what sender and receiver both draw).
  std::vector<Index> indices(const CompressKey& key) const;

 private:
  Index k_;
};

}  // namespace distopt
