#include "distopt/compress/top_k.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#ifdef __AVX2__
#include <immintrin.h>
#endif
#include <limits>
#include <numeric>

#include "distopt/core/error.hpp"

namespace distopt {

TopK::TopK(Index dim, Index k, WirePrecision precision)
    : Compressor(dim, precision),
      k_(k),
      index_bytes_(static_cast<std::uint64_t>(dim) <= (std::uint64_t{1} << 32) ? 4 : 8) {
  if (k < 1 || k > dim) throw Error("TopK: k must lie in [1, d]");
}

void TopK::encode(const Eigen::Ref<const Vector>& v, const CompressKey& /*key*/,
                  std::vector<std::uint8_t>& out) {
  if (v.size() != dim_) throw Error("TopK::encode: dimension mismatch");
  // Magnitude descending, then index ascending: a strict total order, so the selection is
  // deterministic and ties go to the lower index. NaN ranks last. Candidates are kept as
  // (magnitude, index) pairs so the selection works on contiguous memory, not through v.
  auto mag = [&](Index i) {
    const double a = std::abs(v[i]);
    return std::isnan(a) ? -1.0 : a;
  };
  auto before = [](const std::pair<double, std::uint64_t>& a,
                   const std::pair<double, std::uint64_t>& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  };
  if (k_ < dim_ && dim_ >= 65536 && k_ <= dim_ / 16 && encode_filtered(v, out)) return;
  cand_.resize(static_cast<std::size_t>(dim_));
  for (Index i = 0; i < dim_; ++i)
    cand_[static_cast<std::size_t>(i)] = {mag(i), static_cast<std::uint64_t>(i)};
  if (static_cast<Index>(cand_.size()) > k_) {
    std::nth_element(cand_.begin(), cand_.begin() + k_, cand_.end(), before);
  }
  // Wire order: increasing index.
  std::sort(cand_.begin(), cand_.begin() + k_,
            [](const auto& a, const auto& b) { return a.second < b.second; });
  ByteWriter w(out);
  out.reserve(out.size() + message_bytes());
  for (Index j = 0; j < k_; ++j) w.index(cand_[static_cast<std::size_t>(j)].second, index_bytes_);
  for (Index j = 0; j < k_; ++j)
    w.value(v[static_cast<Index>(cand_[static_cast<std::size_t>(j)].second)], precision_);
}

bool TopK::encode_filtered(const Eigen::Ref<const Vector>& v, std::vector<std::uint8_t>& out) {
  // Prefilter (exact): a threshold τ from an evenly strided sample of m magnitudes, set so that
  // about 1.25k coordinates pass plus four standard deviations of the sample count. If at least
  // k coordinates have |v_i| ≥ τ, the k-th largest magnitude is ≥ τ, so every coordinate of the
  // top k (ties included) is a candidate; otherwise (an unlucky sample) the caller selects from
  // all. NaN never passes |v_i| ≥ τ and ranks last, so it is never among k ≥ k candidates' top k.
  const Index m = std::min<Index>(dim_, 16384), stride = dim_ / m;
  sample_.resize(static_cast<std::size_t>(m));
  for (Index i = 0; i < m; ++i) {
    const double a = std::abs(v[i * stride]);
    sample_[static_cast<std::size_t>(i)] = std::isnan(a) ? -1.0 : a;
  }
  const double expect =
      1.25 * static_cast<double>(k_) * static_cast<double>(m) / static_cast<double>(dim_);
  const auto pos = static_cast<std::size_t>(
      std::min<double>(static_cast<double>(m - 1), expect + 4.0 * std::sqrt(expect) + 8.0));
  std::nth_element(sample_.begin(), sample_.begin() + static_cast<std::ptrdiff_t>(pos),
                   sample_.end(), std::greater<double>());
  const double tau = sample_[pos];
  // One pass over v that filters and records (index, value) in index order. Blocks of 8 are
  // tested first without a branch per coordinate (the test vectorizes; about 1 block in 10 has a
  // candidate at 1.25k/d = 1.25%), so the pass runs at about memory speed.
  constexpr Index kBlock = 8;
  const double* x = v.data();
  std::size_t n = 0;
  if (cidx_.size() < static_cast<std::size_t>(2 * k_ + kBlock)) {
    cidx_.resize(static_cast<std::size_t>(2 * k_ + kBlock));
    cval_.resize(cidx_.size());
  }
  auto take = [&](Index i) {
    if (std::abs(x[i]) >= tau) {
      if (n == cidx_.size()) {
        cidx_.resize(2 * n);
        cval_.resize(2 * n);
      }
      cidx_[n] = static_cast<std::uint64_t>(i);
      cval_[n] = x[i];
      ++n;
    }
  };
  Index i = 0;
#ifdef __AVX2__
  const __m256d sign = _mm256_set1_pd(-0.0), vt = _mm256_set1_pd(tau);
  for (; i + kBlock <= dim_; i += kBlock) {
    // |x| ≥ τ, ordered (false for NaN, as the scalar test), for 8 coordinates at once.
    const __m256d a = _mm256_andnot_pd(sign, _mm256_loadu_pd(x + i));
    const __m256d b = _mm256_andnot_pd(sign, _mm256_loadu_pd(x + i + 4));
    unsigned hit = static_cast<unsigned>(_mm256_movemask_pd(_mm256_cmp_pd(a, vt, _CMP_GE_OQ))) |
                   static_cast<unsigned>(_mm256_movemask_pd(_mm256_cmp_pd(b, vt, _CMP_GE_OQ))) << 4;
    while (hit != 0) {  // the passing coordinates, in index order
      const Index j = i + __builtin_ctz(hit);
      hit &= hit - 1;
      if (n == cidx_.size()) {
        cidx_.resize(2 * n);
        cval_.resize(2 * n);
      }
      cidx_[n] = static_cast<std::uint64_t>(j);
      cval_[n] = x[j];
      ++n;
    }
  }
#else
  for (; i + kBlock <= dim_; i += kBlock) {
    bool any = false;
    for (Index j = 0; j < kBlock; ++j) any |= std::abs(x[i + j]) >= tau;
    if (any) {
      for (Index j = 0; j < kBlock; ++j) take(i + j);
    }
  }
#endif
  for (; i < dim_; ++i) take(i);
  if (static_cast<Index>(n) < k_) return false;
  // The k-th largest magnitude t; all candidates above t are kept, and of those equal to t the
  // lowest-indexed ones (the tie rule), in index order: the same set as the strict total order
  // (magnitude descending, index ascending) selects, with no sort.
  // t by a one-level radix select: the bit patterns of non-negative doubles order as the values
  // do, so a histogram of the top 12 bits of (key − smallest key) finds the bucket that holds the
  // k-th largest, and only that bucket's members go through nth_element.
  auto key = [&](std::size_t j) {
    std::uint64_t u = 0;
    const double a = std::abs(cval_[j]);
    std::memcpy(&u, &a, sizeof u);
    return u;
  };
  std::uint64_t lo = key(0), hi = lo;
  for (std::size_t j = 1; j < n; ++j) {
    const std::uint64_t u = key(j);
    lo = std::min(lo, u);
    hi = std::max(hi, u);
  }
  constexpr int kBits = 12;
  const int width = hi == lo ? 0 : 64 - __builtin_clzll(hi - lo);
  const int shift = std::max(0, width - kBits);
  hist_.assign(std::size_t{1} << kBits, 0);
  for (std::size_t j = 0; j < n; ++j) ++hist_[static_cast<std::size_t>((key(j) - lo) >> shift)];
  std::size_t bucket = hist_.size(), higher = 0;  // members of the buckets above `bucket`
  while (higher + hist_[bucket - 1] < static_cast<std::size_t>(k_)) higher += hist_[--bucket];
  --bucket;
  cmag_.clear();
  for (std::size_t j = 0; j < n; ++j) {
    if (static_cast<std::size_t>((key(j) - lo) >> shift) == bucket)
      cmag_.push_back(std::abs(cval_[j]));
  }
  const auto at = static_cast<std::ptrdiff_t>(static_cast<std::size_t>(k_ - 1) - higher);
  std::nth_element(cmag_.begin(), cmag_.begin() + at, cmag_.end(), std::greater<double>());
  const double t = cmag_[static_cast<std::size_t>(at)];
  std::size_t above = 0;
  for (std::size_t j = 0; j < n; ++j) above += std::abs(cval_[j]) > t ? 1 : 0;
  std::size_t ties = static_cast<std::size_t>(k_) - above;
  // Written in place, fields in host byte order exactly as ByteWriter writes them.
  const std::size_t off = out.size();
  out.resize(off + message_bytes());
  std::uint8_t* pi = out.data() + off;
  std::uint8_t* pv = pi + static_cast<std::size_t>(k_) * index_bytes_;
  const std::size_t vb = value_bytes(precision_);
  for (std::size_t j = 0; j < n; ++j) {
    const double a = std::abs(cval_[j]);
    if (!(a > t || (a == t && ties > 0))) continue;
    if (a == t) --ties;
    if (index_bytes_ == 4) {
      const auto i32 = static_cast<std::uint32_t>(cidx_[j]);
      std::memcpy(pi, &i32, 4);
    } else {
      std::memcpy(pi, &cidx_[j], 8);
    }
    pi += index_bytes_;
    if (precision_ == WirePrecision::kFloat32) {
      const auto f = static_cast<float>(cval_[j]);
      std::memcpy(pv, &f, 4);
    } else {
      std::memcpy(pv, &cval_[j], 8);
    }
    pv += vb;
  }
  return true;
}

void TopK::decode_add(std::span<const std::uint8_t> message, const CompressKey& /*key*/,
                      double scale, Eigen::Ref<Vector> out) const {
  if (message.size() != message_bytes()) throw Error("TopK::decode: message length mismatch");
  // Indices are checked first (so a bad message changes nothing), then added with the target
  // cache lines prefetched ahead: the k coordinates lie about d/k apart, so each add would
  // otherwise wait for one line of `out` from memory.
  const std::uint8_t* pi = message.data();
  const std::uint8_t* pv = pi + static_cast<std::size_t>(k_) * index_bytes_;
  auto index_at = [&](Index j) {
    if (index_bytes_ == 4) {
      std::uint32_t i = 0;
      std::memcpy(&i, pi + 4 * j, 4);
      return static_cast<std::uint64_t>(i);
    }
    std::uint64_t i = 0;
    std::memcpy(&i, pi + 8 * j, 8);
    return i;
  };
  for (Index j = 0; j < k_; ++j) {
    if (index_at(j) >= static_cast<std::uint64_t>(dim_))
      throw Error("TopK::decode: index out of range");
  }
  constexpr Index kAhead = 16;
  for (Index j = 0; j < k_; ++j) {
    if (j + kAhead < k_) __builtin_prefetch(&out[static_cast<Index>(index_at(j + kAhead))], 1);
    double x = 0;
    if (precision_ == WirePrecision::kFloat32) {
      float f = 0;
      std::memcpy(&f, pv + 4 * j, 4);
      x = f;
    } else {
      std::memcpy(&x, pv + 8 * j, 8);
    }
    out[static_cast<Index>(index_at(j))] += scale * x;
  }
}

}  // namespace distopt
