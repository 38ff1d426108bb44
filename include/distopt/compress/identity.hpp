#pragma once
// No compression (--compressor none): the d values at the wire precision.
// Message: d·p bytes (p = 8 for float64, 4 for float32).
#include "distopt/compress/compressor.hpp"

namespace distopt {

/// C(v) = v, rounded to the wire precision (unbiased, ω = 0, δ = 1).
class Identity : public Compressor {
 public:
  /// Of dimension `dim`, values at `precision`.
  Identity(Index dim, WirePrecision precision) : Compressor(dim, precision) {}
  std::string name() const override { return "none"; }
  void encode(const Eigen::Ref<const Vector>& v, const CompressKey& key,
              std::vector<std::uint8_t>& out) override;
  void decode_add(std::span<const std::uint8_t> message, const CompressKey& key, double scale,
                  Eigen::Ref<Vector> out) const override;
  std::size_t message_bytes() const override {
    return static_cast<std::size_t>(dim_) * value_bytes(precision_);
  }
  bool unbiased() const override { return true; }
  double delta() const override { return 1.0; }
};

}  // namespace distopt
