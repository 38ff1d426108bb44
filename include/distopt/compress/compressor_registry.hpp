#pragma once
// The compressor registry (--compressor, --compressor-down): one entry per kind, from which
// make_compressor(), make_uplink(), the "unknown compressor" error and the --help text are made.
// A user compressor becomes usable everywhere a built-in one is (with any error feedback, on the
// uplink of every method, on the downlink) by one call before the run:
//
//   distopt::compressor_registry().add({"mine", "mine:<k>", "my compressor",
//       {[](const distopt::CompressorArgs& a) -> std::unique_ptr<distopt::Compressor> {
//          return std::make_unique<Mine>(a.dim, a.count_or_fraction(), a.precision);
//        }}});
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "distopt/compress/compressor.hpp"
#include "distopt/compress/link_options.hpp"
#include "distopt/compress/uplink.hpp"
#include "distopt/core/registry.hpp"

namespace distopt {

/// What a compressor factory gets: the user's spec split at the first ':' and the model.
struct CompressorArgs {
  std::string spec;      ///< as written, e.g. "topk:0.01"
  std::string arg;       ///< after the ':', e.g. "0.01" (empty without one)
  bool has_arg = false;  ///< a ':' was written
  Index dim = 0;         ///< d of the vectors to compress
  WirePrecision precision = WirePrecision::kFloat64;  ///< --wire-precision of the values
  std::string option = "compressor";                  ///< the key errors name
  /// ConfigError(option, "'kind' takes no parameter") if a parameter was written.
  void no_arg() const;
  /// k from the parameter, a count or a fraction of dim (see parse_k); ConfigError(option, ...).
  Index count_or_fraction() const;
  /// The parameter as an integer >= 1; ConfigError(option, ...) naming `what` if absent or not one.
  std::int64_t positive_int(const std::string& what) const;
};

/// One kind of compressor. Vector compressors set `make`; schemes that are a whole uplink of
/// their own (PowerSGD: low-rank factors reduced by allreduce, its own error memory) set
/// `make_uplink` and cannot be combined with --feedback or used on the downlink.
struct CompressorKind {
  /// Builds the vector compressor (empty for a kind that is an uplink of its own).
  std::function<std::unique_ptr<Compressor>(const CompressorArgs&)> make;
  /// Builds the whole uplink from the run context, the arguments and the uplink's stream seed
  /// (empty for a vector compressor).
  std::function<std::unique_ptr<Uplink>(RunContext&, const CompressorArgs&, std::uint64_t seed)>
      make_uplink;
};

/// none, topk, randk, qsgd, natural, sign, powersgd, and what user code adds.
Registry<CompressorKind>& compressor_registry();

}  // namespace distopt
