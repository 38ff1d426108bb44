#include "distopt/compress/compressor.hpp"

#include <cmath>

#include "distopt/compress/compressor_registry.hpp"
#include "distopt/core/error.hpp"
#include "distopt/core/parse.hpp"

namespace distopt {

Vector Compressor::apply(const Eigen::Ref<const Vector>& v, const CompressKey& key) {
  std::vector<std::uint8_t> msg;
  encode(v, key, msg);
  Vector out = Vector::Zero(dim_);
  decode_add(msg, key, 1.0, out);
  return out;
}

Index parse_k(const std::string& option, const std::string& text, Index dim) {
  if (text.empty()) throw ConfigError(option, "needs k: an integer count or a fraction of d in (0, 1]");
  const bool fraction = text.find_first_of(".eE") != std::string::npos;
  if (!fraction) {
    const std::int64_t k = parse_int(option, text);
    if (k < 1) throw ConfigError(option, "k must be at least 1 (got " + text + ")");
    if (k > dim) {
      throw ConfigError(option, "k = " + text + " exceeds the dimension d = " + std::to_string(dim));
    }
    return static_cast<Index>(k);
  }
  const double f = parse_double(option, text);
  if (!(f > 0.0 && f <= 1.0)) {
    throw ConfigError(option, "a fraction of d must lie in (0, 1] (got " + text + ")");
  }
  const auto k = static_cast<Index>(std::llround(f * static_cast<double>(dim)));
  return std::max<Index>(1, std::min(k, dim));
}

std::unique_ptr<Compressor> make_compressor(const std::string& spec, Index dim,
                                            WirePrecision precision, const std::string& option) {
  if (dim < 1) throw ConfigError(option, "the model has no parameters to compress");
  const SpecParts parts = split_spec(spec);
  const auto& entry = compressor_registry().get(parts.kind, spec, option);
  if (!entry.make.make) {
    throw ConfigError(
        option, "'" + parts.kind + "' is not a vector compressor (it is an uplink of its own)");
  }
  return entry.make.make(CompressorArgs{spec, parts.arg, parts.has_arg, dim, precision, option});
}

}  // namespace distopt
