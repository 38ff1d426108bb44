#include "distopt/compress/compressor_registry.hpp"

#include "distopt/compress/identity.hpp"
#include "distopt/compress/natural.hpp"
#include "distopt/compress/power_sgd_uplink.hpp"
#include "distopt/compress/qsgd.hpp"
#include "distopt/compress/rand_k.hpp"
#include "distopt/compress/scaled_sign.hpp"
#include "distopt/compress/top_k.hpp"
#include "distopt/core/error.hpp"
#include "distopt/core/parse.hpp"
#include "distopt/model/objective.hpp"

namespace distopt {

void CompressorArgs::no_arg() const {
  if (has_arg) throw ConfigError(option, "'" + split_spec(spec).kind + "' takes no parameter");
}

Index CompressorArgs::count_or_fraction() const {
  return parse_k(option, arg, dim);
}

std::int64_t CompressorArgs::positive_int(const std::string& what) const {
  const std::string kind = split_spec(spec).kind;
  if (arg.empty())
    throw ConfigError(option, kind + " needs " + what + ": " + kind + ":<" + what + ">");
  const std::int64_t v = parse_int(option, arg);
  if (v < 1) throw ConfigError(option, kind + " " + what + " must be at least 1 (got " + arg + ")");
  return v;
}

Registry<CompressorKind>& compressor_registry() {
  static Registry<CompressorKind> r = [] {
    Registry<CompressorKind> c("compressor", "compressor");
    // A vector compressor's kind (no uplink of its own).
    const auto vector = [](std::function<std::unique_ptr<Compressor>(const CompressorArgs&)> f) {
      CompressorKind k;
      k.make = std::move(f);
      return k;
    };
    c.add({"none", "", "no compression (d values)",
           vector([](const CompressorArgs& a) -> std::unique_ptr<Compressor> {
             a.no_arg();
             return std::make_unique<Identity>(a.dim, a.precision);
           })});
    c.add({"topk", "topk:<k or fraction>", "the k largest magnitudes (indices and values)",
           vector([](const CompressorArgs& a) -> std::unique_ptr<Compressor> {
             return std::make_unique<TopK>(a.dim, a.count_or_fraction(), a.precision);
           })});
    c.add({"randk", "randk:<k or fraction>", "k random coordinates, scaled d/k (values only)",
           vector([](const CompressorArgs& a) -> std::unique_ptr<Compressor> {
             return std::make_unique<RandK>(a.dim, a.count_or_fraction(), a.precision);
           })});
    c.add({"qsgd", "qsgd:<levels>", "QSGD: norm, signs and stochastic levels packed in bits",
           vector([](const CompressorArgs& a) -> std::unique_ptr<Compressor> {
             if (a.arg.empty()) {
               throw ConfigError(a.option, "qsgd needs the number of levels: qsgd:<levels>");
             }
             const std::int64_t s = parse_int(a.option, a.arg);
             if (s < 1)
               throw ConfigError(a.option, "qsgd levels must be at least 1 (got " + a.arg + ")");
             if (s > (1 << 24)) {
               throw ConfigError(a.option, "qsgd levels must be at most 2^24 (got " + a.arg + ")");
             }
             return std::make_unique<Qsgd>(a.dim, static_cast<int>(s), a.precision);
           })});
    c.add({"natural", "", "natural compression: random rounding to a power of two",
           vector([](const CompressorArgs& a) -> std::unique_ptr<Compressor> {
             a.no_arg();
             return std::make_unique<Natural>(a.dim, a.precision);
           })});
    c.add({"sign", "", "scaled sign: ||v||_1/d times the signs",
           vector([](const CompressorArgs& a) -> std::unique_ptr<Compressor> {
             a.no_arg();
             return std::make_unique<ScaledSign>(a.dim, a.precision);
           })});
    c.add({"powersgd",
           "powersgd:<rank>",
           "PowerSGD: rank-r factors of each matrix block (uplink only)",
           {{},
            [](RunContext& ctx, const CompressorArgs& a,
               std::uint64_t seed) -> std::unique_ptr<Uplink> {
              if (!a.has_arg || a.arg.empty()) {
                throw ConfigError(a.option, "powersgd needs a rank: powersgd:<rank>");
              }
              const std::int64_t rank = parse_int(a.option, a.arg);
              if (rank < 1) throw ConfigError(a.option, "powersgd rank must be at least 1");
              return std::make_unique<PowerSgdUplink>(ctx.comm, ctx.reduction, ctx.placement,
                                                      ctx.objective.layout(), rank, a.precision,
                                                      seed);
            }}});
    return c;
  }();
  return r;
}

}  // namespace distopt
