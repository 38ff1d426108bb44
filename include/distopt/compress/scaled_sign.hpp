#pragma once
// Scaled sign (ALGORITHMS.md §2): C(v) = (‖v‖₁/d) · sign(v), with sign(0) = +1 (one bit cannot
// say zero). Contractive: ‖C(v) − v‖² = ‖v‖² − ‖v‖₁²/d ≤ (1 − 1/d)‖v‖², so δ = 1/d.
// Message: the scale (one value at the wire precision) then d sign bits (1 = negative):
// p + ⌈d/8⌉ bytes.
#include "distopt/compress/compressor.hpp"

namespace distopt {

/// Scaled sign (see above): contractive with δ = 1/d; deterministic.
class ScaledSign : public Compressor {
 public:
  /// Of dimension `dim`; the scale travels at `precision`.
  ScaledSign(Index dim, WirePrecision precision) : Compressor(dim, precision) {}
  std::string name() const override { return "sign"; }
  void encode(const Eigen::Ref<const Vector>& v, const CompressKey& key,
              std::vector<std::uint8_t>& out) override;
  void decode_add(std::span<const std::uint8_t> message, const CompressKey& key, double scale,
                  Eigen::Ref<Vector> out) const override;
  std::size_t message_bytes() const override {
    return value_bytes(precision_) + packed_bytes(static_cast<std::uint64_t>(dim_));
  }
  bool unbiased() const override { return false; }
  double delta() const override { return 1.0 / static_cast<double>(dim_); }
};

}  // namespace distopt
