#pragma once
// Natural compression (Horváth et al., arXiv 1905.10988): each value is rounded stochastically to
// one of the two neighbouring powers of two, 2^e ≤ |v_j| < 2^(e+1), up with probability
// (|v_j| − 2^e)/2^e, keeping its sign: unbiased with ω = 1/8. Only sign and exponent travel.
// Exponent field (E bits: 8 for float32 wire, 11 for float64): 0 encodes zero, field f encodes
// 2^(f − bias) with bias 127 / 1023 and f ∈ [1, 2^E − 2]. Magnitudes below the smallest power are
// rounded stochastically between 0 and it (still unbiased); above the largest they are clamped.
// Message: d·(1 + E) bits packed: ⌈9d/8⌉ bytes (float32) or ⌈12d/8⌉ bytes (float64).
#include "distopt/compress/compressor.hpp"

namespace distopt {

/// Natural compression (see above): unbiased, ω = 1/8; randomised (draws from the key's stream).
class Natural : public Compressor {
 public:
  /// Of dimension `dim`; `precision` sets the exponent field (8 bits for float32, 11 for float64).
  Natural(Index dim, WirePrecision precision);
  std::string name() const override { return "natural"; }
  void encode(const Eigen::Ref<const Vector>& v, const CompressKey& key,
              std::vector<std::uint8_t>& out) override;
  void decode_add(std::span<const std::uint8_t> message, const CompressKey& key, double scale,
                  Eigen::Ref<Vector> out) const override;
  std::size_t message_bytes() const override {
    return packed_bytes(static_cast<std::uint64_t>(dim_) * static_cast<std::uint64_t>(1 + exp_bits_));
  }
  bool unbiased() const override { return true; }
  double omega() const override { return 1.0 / 8.0; }
  int exponent_bits() const { return exp_bits_; }  ///< E: 8 (float32 wire) or 11 (float64 wire)

 private:
  int exp_bits_;
  int bias_;
};

}  // namespace distopt
