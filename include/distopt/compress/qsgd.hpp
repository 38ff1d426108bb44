#pragma once
// QSGD with s levels (Alistarh et al., arXiv 1610.02132, §3.1): with r_j = s|v_j|/‖v‖₂,
// C(v)_j = ‖v‖₂ · sign(v_j) · ℓ_j/s where ℓ_j = ⌊r_j⌋ + Bernoulli(r_j − ⌊r_j⌋). Unbiased with
// ω = min(d/s², √d/s) (their Lemma 3.1). The rounding draws come from the (seed, agent, step)
// stream; the receiver needs none.
// Message: the norm (one value at the wire precision; rounded up so that r_j ≤ s), then for each
// coordinate a sign bit and b = ⌈log₂(s+1)⌉ level bits, packed: p + ⌈d(1+b)/8⌉ bytes.
#include "distopt/compress/compressor.hpp"

namespace distopt {

/// QSGD with s levels (see above): unbiased, ω = min(d/s², √d/s); randomised.
class Qsgd : public Compressor {
 public:
  /// Of dimension `dim` with s = `levels` >= 1 (Error otherwise); values at `precision`.
  Qsgd(Index dim, int levels, WirePrecision precision);
  std::string name() const override { return "qsgd:" + std::to_string(levels_); }
  int levels() const { return levels_; }          ///< s
  int level_bits() const { return level_bits_; }  ///< b = ⌈log₂(s+1)⌉ bits per level
  void encode(const Eigen::Ref<const Vector>& v, const CompressKey& key,
              std::vector<std::uint8_t>& out) override;
  void decode_add(std::span<const std::uint8_t> message, const CompressKey& key, double scale,
                  Eigen::Ref<Vector> out) const override;
  std::size_t message_bytes() const override {
    return value_bytes(precision_) +
           packed_bytes(static_cast<std::uint64_t>(dim_) * static_cast<std::uint64_t>(1 + level_bits_));
  }
  bool unbiased() const override { return true; }
  double omega() const override;

 private:
  int levels_;
  int level_bits_;
};

}  // namespace distopt
