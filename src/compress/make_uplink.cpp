// Selection of the uplink from its options (UplinkOptions: --compressor, --feedback,
// --wire-precision, --econtrol-eta): the dense uplink when nothing is compressed, PowerSGD for
// powersgd:<rank>, a CompressedUplink otherwise; and of the downlink (--compressor-down, see
// downlink.hpp). Every option is validated here, before any training.
#include <cmath>

#include "distopt/compress/compressed_uplink.hpp"
#include "distopt/compress/compressor_registry.hpp"
#include "distopt/compress/downlink.hpp"
#include "distopt/compress/step_size.hpp"
#include "distopt/compress/uplink.hpp"
#include "distopt/core/check.hpp"
#include "distopt/core/error.hpp"
#include "distopt/core/parse.hpp"
#include "distopt/model/objective.hpp"

namespace distopt {

namespace {
/// FNV-1a of the stream name, mixed into the seed so two uplinks of one run draw differently.
std::uint64_t stream_seed(std::uint64_t seed, const std::string& stream) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char ch : stream) {
    h ^= ch;
    h *= 0x100000001b3ull;
  }
  return seed ^ h;
}
}  // namespace

void UplinkOptions::validate() const {
  feedback_mechanism(feedback);
  check::nonnegative("econtrol-eta", econtrol_eta);
}

void DownlinkOptions::validate() const {}

std::unique_ptr<Uplink> make_uplink(RunContext& ctx, const UplinkOptions& options,
                                    const std::string& stream) {
  options.validate();
  const std::string& spec = options.compressor;
  const FeedbackMechanism& feedback = feedback_mechanism(options.feedback);
  const auto precision = options.precision;
  const double eta = options.econtrol_eta;
  const std::uint64_t seed = stream_seed(ctx.seed, stream);
  const Index d = ctx.objective.dim();

  const SpecParts parts = split_spec(spec);
  const auto& kind = compressor_registry().get(parts.kind, spec).make;
  if (kind.make_uplink) {
    // A scheme that is an uplink of its own (PowerSGD).
    if (!feedback.stateless()) {
      throw ConfigError("feedback",
                        parts.kind + " keeps its own error memory: use --feedback none");
    }
    return kind.make_uplink(
        ctx, CompressorArgs{spec, parts.arg, parts.has_arg, d, precision, "compressor"}, seed);
  }
  if (spec == "none" && feedback.stateless() && precision == WirePrecision::kFloat64) {
    return std::make_unique<DenseUplink>(ctx.comm, ctx.reduction, value_bytes(precision));
  }
  CompressedUplinkOptions o;
  o.compressor = spec;
  o.feedback = options.feedback;
  o.precision = precision;
  o.econtrol_eta = eta;
  o.econtrol_init_gradient = options.econtrol_init_gradient;
  o.seed = seed;
  if (feedback.smoothness_weights) {
    const auto L = gather_agent_smoothness(ctx);
    double total = 0;
    for (std::size_t a = 0; a < L.size(); ++a) {
      if (!std::isfinite(L[a]) || L[a] <= 0) {
        throw ConfigError("feedback", "ef21w weighs agents by their smoothness L_i; the model '" +
                                          ctx.objective.name() + "' gives no finite estimate");
      }
      total += ctx.agent_weights[a] * L[a];
    }
    for (std::size_t a = 0; a < L.size(); ++a) o.ef21w_weights.push_back(ctx.agent_weights[a] * L[a] / total);
  }
  return std::make_unique<CompressedUplink>(ctx.comm, ctx.reduction, ctx.placement, d, std::move(o));
}

std::unique_ptr<Downlink> make_downlink(RunContext& ctx, const DownlinkOptions& options,
                                        const std::string& stream) {
  options.validate();
  const std::string& spec = options.compressor;
  const auto precision = options.precision;
  if (spec == "none") return nullptr;  // the model goes down dense, exactly as without the option
  const SpecParts parts = split_spec(spec);
  if (!compressor_registry().get(parts.kind, spec, "compressor-down").make.make) {
    throw ConfigError("compressor-down", parts.kind +
                                             " is not supported on the downlink (use a vector "
                                             "compressor: topk, randk, qsgd, natural, sign, ...)");
  }
  auto compressor = make_compressor(spec, ctx.objective.dim(), precision, "compressor-down");
  return std::make_unique<Downlink>(std::move(compressor), stream_seed(ctx.seed, stream));
}

}  // namespace distopt
