#pragma once
// A user compressor: block Top-k, spec "blocktopk:<b>,<m>". The d coordinates are cut into
// B = ⌈d/b⌉ consecutive blocks of b (the last one may be shorter); C(v) keeps the m blocks of
// largest energy ‖v_block‖² (ties: the lower block wins, so C is deterministic) and zeroes the
// rest.
//
// Contraction: the m largest of the B block energies hold at least m/B of their sum ‖v‖², so
//   ‖C(v) − v‖² ≤ (1 − m/B)‖v‖²,   δ = m/B.
// Message (exactly message_bytes() long, the same for every v):
//   m block indices, uint32, increasing                     4m bytes
//   m blocks of b values at the wire precision p (8 or 4)   m·b·p bytes
// (a kept last block shorter than b is padded with zeros, ignored by the receiver), so
//   message_bytes = m·(4 + b·p).
// Sending whole blocks saves the per-coordinate index of Top-k: at equal kept coordinates k = m·b
// it costs 4m + k·p bytes instead of k·(4 + p).
#include <algorithm>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "distopt/compress/compressor_registry.hpp"
#include "distopt/core/error.hpp"
#include "distopt/core/parse.hpp"

namespace user {

using distopt::Index;
using distopt::Vector;

class BlockTopK final : public distopt::Compressor {
 public:
  BlockTopK(Index dim, Index block, Index keep, distopt::WirePrecision precision)
      : Compressor(dim, precision), b_(block), m_(keep), blocks_((dim + block - 1) / block) {}

  std::string name() const override {
    return "blocktopk:" + std::to_string(b_) + "," + std::to_string(m_);
  }
  std::size_t message_bytes() const override {
    return static_cast<std::size_t>(m_) *
           (4 + static_cast<std::size_t>(b_) * distopt::value_bytes(precision_));
  }
  bool unbiased() const override { return false; }
  double delta() const override { return static_cast<double>(m_) / static_cast<double>(blocks_); }

  void encode(const Eigen::Ref<const Vector>& v, const distopt::CompressKey&,
              std::vector<std::uint8_t>& out) override {
    energy_.resize(static_cast<std::size_t>(blocks_));
    for (Index j = 0; j < blocks_; ++j)
      energy_[static_cast<std::size_t>(j)] = v.segment(j * b_, len(j)).squaredNorm();
    order_.resize(static_cast<std::size_t>(blocks_));
    std::iota(order_.begin(), order_.end(), Index{0});
    // The m most energetic blocks (energy descending, then block ascending), sent in block order.
    std::partial_sort(order_.begin(), order_.begin() + m_, order_.end(), [&](Index a, Index c) {
      const double ea = energy_[static_cast<std::size_t>(a)],
                   ec = energy_[static_cast<std::size_t>(c)];
      return ea > ec || (ea == ec && a < c);
    });
    std::sort(order_.begin(), order_.begin() + m_);
    distopt::ByteWriter w(out);
    for (Index j = 0; j < m_; ++j)
      w.u32(static_cast<std::uint32_t>(order_[static_cast<std::size_t>(j)]));
    for (Index j = 0; j < m_; ++j) {
      const Index blk = order_[static_cast<std::size_t>(j)];
      for (Index i = 0; i < b_; ++i) w.value(i < len(blk) ? v[blk * b_ + i] : 0.0, precision_);
    }
  }

  void decode_add(std::span<const std::uint8_t> message, const distopt::CompressKey&, double scale,
                  Eigen::Ref<Vector> out) const override {
    if (message.size() != message_bytes())
      throw distopt::Error("blocktopk: message length mismatch");
    distopt::ByteReader idx(message.first(static_cast<std::size_t>(m_) * 4));
    distopt::ByteReader val(message.subspan(static_cast<std::size_t>(m_) * 4));
    for (Index j = 0; j < m_; ++j) {
      const Index blk = static_cast<Index>(idx.u32());
      if (blk >= blocks_) throw distopt::Error("blocktopk: block index out of range");
      for (Index i = 0; i < b_; ++i) {
        const double x = val.value(precision_);
        if (i < len(blk)) out[blk * b_ + i] += scale * x;
      }
    }
  }

 private:
  Index len(Index blk) const { return std::min(b_, dim_ - blk * b_); }
  Index b_, m_, blocks_;
  std::vector<double> energy_;  // scratch
  std::vector<Index> order_;
};

/// Adds "blocktopk:<b>,<m>" to the compressor registry: then UplinkOptions::compressor,
/// --compressor and --compressor-down accept it, with every error-feedback mechanism.
inline void register_block_top_k() {
  distopt::compressor_registry().add(
      {"blocktopk",
       "blocktopk:<b>,<m>",
       "the m of the ceil(d/b) blocks of b coordinates with the largest energy",
       {[](const distopt::CompressorArgs& a) -> std::unique_ptr<distopt::Compressor> {
          const auto comma = a.arg.find(',');
          if (comma == std::string::npos)
            throw distopt::ConfigError(a.option, "'" + a.spec + "': expected blocktopk:<b>,<m>");
          const auto b = distopt::parse_int(a.option, a.arg.substr(0, comma));
          const auto m = distopt::parse_int(a.option, a.arg.substr(comma + 1));
          const Index blocks = b > 0 ? (a.dim + b - 1) / b : 0;
          if (b < 1 || b > a.dim || m < 1 || m > blocks) {
            throw distopt::ConfigError(
                a.option, "'" + a.spec + "': need 1 <= b <= d and 1 <= m <= ceil(d/b) (d = " +
                              std::to_string(a.dim) + ")");
          }
          return std::make_unique<BlockTopK>(a.dim, b, m, a.precision);
        },
        {}}});
}

}  // namespace user
