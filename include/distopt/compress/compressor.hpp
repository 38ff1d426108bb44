#pragma once
// The compressor concept (ALGORITHMS.md §2). A compressor of a fixed dimension d maps a vector v to
// a byte message and back: decode(encode(v)) = C(v). Messages have a fixed length given d (the
// formula each compressor states in message_bytes()), and that length is what the uplink counts as
// logical traffic.
//
// Randomised compressors draw from a counter-based stream keyed by (seed, agent, step) (see
// core/random.hpp): the encoding does not depend on which rank runs the agent, and Rand-k's
// receiver regenerates the indices from the same key, so only the values travel.
//
// Two classes (ALGORITHMS.md §2):
//  * contractive (biased): ‖C(v) − v‖² ≤ (1 − δ)‖v‖²             (Top-k: δ = k/d; sign: δ = 1/d)
//  * unbiased: E C(v) = v, E‖C(v) − v‖² ≤ ω‖v‖²  (Rand-k: ω = d/k − 1; QSGD; natural: ω = 1/8)
// An unbiased C gives the contractive C/(ω+1) with δ = 1/(ω+1); error-feedback mechanisms use
// that scaled form (contractive_scale()).
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "distopt/compress/wire.hpp"
#include "distopt/core/types.hpp"

namespace distopt {

/// Identifies one compression: whose vector, at which step, in which stream of the run.
struct CompressKey {
  std::uint64_t seed = 1;  ///< run seed mixed with the uplink's stream name
  Index agent = 0;         ///< whose vector it is (Downlink::kServerAgent for the downlink)
  std::uint64_t step = 0;  ///< the uplink's round counter, or the round for the downlink
};

/// A compressor C of vectors of a fixed dimension d: encodes v into a byte message of fixed length
/// and decodes it back to C(v). Built from a spec by make_compressor() (compressor_registry()).
class Compressor {
 public:
  /// A compressor of vectors of dimension `dim` whose values travel at `precision`.
  Compressor(Index dim, WirePrecision precision) : dim_(dim), precision_(precision) {}
  virtual ~Compressor() = default;

  /// The spec it was built from, e.g. "topk:10".
  virtual std::string name() const = 0;
  Index dim() const { return dim_; }                      ///< d, the length of its vectors
  WirePrecision precision() const { return precision_; }  ///< precision of the values on the wire

  /// Appends the message encoding C(v) to `out` (v.size() == dim(), else Error). Randomised
  /// compressors draw from the stream of `key`.
  virtual void encode(const Eigen::Ref<const Vector>& v, const CompressKey& key,
                      std::vector<std::uint8_t>& out) = 0;
  /// out += scale * C(v), from one message (exactly message_bytes() long, else Error) encoded
  /// with the same `key`.
  virtual void decode_add(std::span<const std::uint8_t> message, const CompressKey& key, double scale,
                          Eigen::Ref<Vector> out) const = 0;
  /// Length of every message (bytes), the formula stated by each compressor.
  virtual std::size_t message_bytes() const = 0;

  /// True if E C(v) = v.
  virtual bool unbiased() const = 0;
  /// Variance parameter ω of an unbiased compressor (0 for biased ones).
  virtual double omega() const { return 0.0; }
  /// Contraction parameter δ ∈ (0, 1] of the compressor as used with error feedback:
  /// its own for biased compressors, 1/(ω+1) for unbiased ones (scaled by contractive_scale()).
  virtual double delta() const { return 1.0 / (omega() + 1.0); }
  /// Factor turning C into a contractive compressor: 1 for biased, 1/(ω+1) for unbiased.
  double contractive_scale() const { return unbiased() ? 1.0 / (omega() + 1.0) : 1.0; }

  /// C(v) as a dense vector (encode then decode; for tests and for senders that keep state).
  Vector apply(const Eigen::Ref<const Vector>& v, const CompressKey& key);

 protected:
  Index dim_;                ///< d
  WirePrecision precision_;  ///< precision of the values on the wire
};

/// Builds a compressor from its spec: `none` | `topk:<k or fraction>` | `randk:<k or fraction>` |
/// `qsgd:<levels>` | `natural` | `sign`, or a kind added to compressor_registry(). `option` names
/// the option in errors (ConfigError), e.g. "compressor": unknown kind, bad parameter, a model
/// with no parameters (dim < 1), or a kind that is not a vector compressor (`powersgd:<rank>` is a
/// whole uplink: see PowerSgdUplink).
std::unique_ptr<Compressor> make_compressor(const std::string& spec, Index dim, WirePrecision precision,
                                            const std::string& option = "compressor");

/// k from `<k or fraction>`: an integer is a count (1 ≤ k ≤ d), a number with a decimal point or
/// exponent is a fraction in (0, 1] of d (k = max(1, round(fraction·d))). ConfigError(option, ...)
/// otherwise (empty text included).
Index parse_k(const std::string& option, const std::string& text, Index dim);

}  // namespace distopt
