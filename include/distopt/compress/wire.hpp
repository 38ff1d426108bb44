#pragma once
// Byte and bit encoding of compressed messages. A message is a plain byte string whose length is
// exactly what is counted as logical traffic. Values travel at the wire precision
// (--wire-precision float64|float32) in the host's byte order (every rank of a run shares it);
// packed fields (signs, QSGD levels, exponents) are written least-significant bit first.
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "distopt/core/types.hpp"

namespace distopt {

/// Precision of the values of a message on the wire (--wire-precision): kFloat64 (8 bytes, exact)
/// or kFloat32 (4 bytes, values rounded to float).
enum class WirePrecision { kFloat64, kFloat32 };
/// "float64" | "float32"; throws ConfigError(option, ...) otherwise.
WirePrecision wire_precision_from_string(const std::string& option, const std::string& s);
/// Bytes of one value at precision p: 4 (float32) or 8 (float64).
inline std::size_t value_bytes(WirePrecision p) { return p == WirePrecision::kFloat32 ? 4 : 8; }
/// The value the receiver will see for x at this precision (x itself for float64).
inline double round_to_wire(double x, WirePrecision p) {
  return p == WirePrecision::kFloat32 ? static_cast<double>(static_cast<float>(x)) : x;
}
/// Bytes needed for `bits` packed bits.
inline std::size_t packed_bytes(std::uint64_t bits) { return static_cast<std::size_t>((bits + 7) / 8); }

/// Appends fields to a byte string.
class ByteWriter {
 public:
  /// Appends to `out` (kept by reference: it must outlive the writer).
  explicit ByteWriter(std::vector<std::uint8_t>& out) : out_(out) {}
  /// x at precision p: 4 bytes (rounded to float) or 8.
  void value(double x, WirePrecision p) {
    if (p == WirePrecision::kFloat32) {
      pod(static_cast<float>(x));
    } else {
      pod(x);
    }
  }
  void u32(std::uint32_t x) { pod(x); }           ///< 4 bytes, host byte order
  void u64(std::uint64_t x) { pod(x); }           ///< 8 bytes, host byte order
  void f64(double x) { pod(x); }                  ///< 8 bytes, exact
  void u8(std::uint8_t x) { out_.push_back(x); }  ///< one byte
  /// The bytes b as they are.
  void bytes(std::span<const std::uint8_t> b) { out_.insert(out_.end(), b.begin(), b.end()); }
  /// Index i, `width` bytes wide (4: truncated to 32 bits, otherwise 8).
  void index(std::uint64_t i, std::size_t width) {
    if (width == 4) {
      u32(static_cast<std::uint32_t>(i));
    } else {
      u64(i);
    }
  }

 private:
  template <class T>
  void pod(T x) {
    const auto n = out_.size();
    out_.resize(n + sizeof(T));
    std::memcpy(out_.data() + n, &x, sizeof(T));
  }
  std::vector<std::uint8_t>& out_;
};

/// Reads fields from a byte string; throws Error when reading past the end (a corrupt message).
class ByteReader {
 public:
  /// Reads `in` from its start (a view: the bytes must outlive the reader).
  explicit ByteReader(std::span<const std::uint8_t> in) : in_(in) {}
  /// A value written by ByteWriter::value at precision p.
  double value(WirePrecision p) {
    return p == WirePrecision::kFloat32 ? static_cast<double>(pod<float>()) : pod<double>();
  }
  std::uint32_t u32() { return pod<std::uint32_t>(); }  ///< 4 bytes (ByteWriter::u32)
  std::uint64_t u64() { return pod<std::uint64_t>(); }  ///< 8 bytes (ByteWriter::u64)
  double f64() { return pod<double>(); }                ///< 8 bytes (ByteWriter::f64)
  std::uint8_t u8() { return pod<std::uint8_t>(); }     ///< one byte (ByteWriter::u8)
  /// An index `width` bytes wide (4 or 8, as ByteWriter::index wrote it).
  std::uint64_t index(std::size_t width) { return width == 4 ? u32() : u64(); }
  /// The next n bytes as a view into the input; Error if fewer remain.
  std::span<const std::uint8_t> bytes(std::size_t n);
  std::size_t position() const { return pos_; }                ///< bytes read so far
  std::size_t remaining() const { return in_.size() - pos_; }  ///< bytes not yet read

 private:
  template <class T>
  T pod() {
    T x;
    std::memcpy(&x, bytes(sizeof(T)).data(), sizeof(T));
    return x;
  }
  std::span<const std::uint8_t> in_;
  std::size_t pos_ = 0;
};

/// Packs fixed-width unsigned fields (1..32 bits) into bytes appended to a byte string.
class BitWriter {
 public:
  /// Appends to `out` (kept by reference: it must outlive the writer, which flushes on
  /// destruction).
  explicit BitWriter(std::vector<std::uint8_t>& out) : out_(out) {}
  ~BitWriter() { flush(); }
  BitWriter(const BitWriter&) = delete;
  BitWriter& operator=(const BitWriter&) = delete;
  /// Appends the low `bits` bits of value (1..32; value must fit in them), least-significant
  /// first.
  void put(std::uint32_t value, int bits) {
    acc_ |= static_cast<std::uint64_t>(value) << fill_;
    fill_ += bits;
    while (fill_ >= 8) {
      out_.push_back(static_cast<std::uint8_t>(acc_));
      acc_ >>= 8;
      fill_ -= 8;
    }
  }
  /// Writes the last partial byte (zero-padded). Called by the destructor.
  void flush() {
    if (fill_ > 0) out_.push_back(static_cast<std::uint8_t>(acc_));
    acc_ = 0;
    fill_ = 0;
  }

 private:
  std::vector<std::uint8_t>& out_;
  std::uint64_t acc_ = 0;
  int fill_ = 0;
};

/// Reads what BitWriter wrote.
class BitReader {
 public:
  /// Reads `in` from its start (a view: the bytes must outlive the reader).
  explicit BitReader(std::span<const std::uint8_t> in) : in_(in) {}
  /// The next `bits` bits (1..32) as BitWriter::put wrote them; Error past the end.
  std::uint32_t get(int bits);

 private:
  std::span<const std::uint8_t> in_;
  std::size_t pos_ = 0;
  std::uint64_t acc_ = 0;
  int fill_ = 0;
};

}  // namespace distopt
