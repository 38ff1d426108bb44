#include "distopt/compress/step_size.hpp"

#include <cmath>

#include "distopt/compress/compressor.hpp"
#include "distopt/compress/compressor_registry.hpp"
#include "distopt/compress/feedback.hpp"
#include "distopt/core/check.hpp"
#include "distopt/core/error.hpp"
#include "distopt/core/parse.hpp"
#include "distopt/data/local_data.hpp"
#include "distopt/model/objective.hpp"

namespace distopt {

std::vector<double> gather_agent_smoothness(RunContext& ctx) {
  std::vector<double> local;
  for (Index a = ctx.placement.local_first(); a < ctx.placement.end(ctx.comm.rank()); ++a) {
    local.push_back(ctx.objective.smoothness(ctx.data.shard(a)));
  }
  // One value per agent: the placement knows every rank's count (no count exchange).
  std::vector<int> counts(static_cast<std::size_t>(ctx.comm.size()));
  for (int r = 0; r < ctx.comm.size(); ++r) {
    counts[static_cast<std::size_t>(r)] = static_cast<int>(ctx.placement.count(r));
  }
  return ctx.comm.allgatherv(std::span<const double>(local), std::span<const int>(counts));
}

Ef21Constants ef21_constants(double delta) {
  if (!(delta > 0.0 && delta <= 1.0)) throw Error("ef21_constants: delta must lie in (0, 1]");
  const double s = std::sqrt(1.0 - delta);
  Ef21Constants c;
  c.theta = 1.0 - s;
  c.beta = delta >= 1.0 ? 0.0 : (1.0 - delta) / (1.0 - s);
  return c;
}

double ef21_step(double L, double L_mean, double delta) {
  const auto c = ef21_constants(delta);
  return 1.0 / (L + L_mean * std::sqrt(c.beta / c.theta));
}

StepSize StepSize::parse(const std::string& key, const std::string& text) {
  StepSize s;
  if (text == "theory") {
    s.theory = true;
  } else {
    s.value = parse_double(key, text);
  }
  return s;
}

void StepSize::validate() const {
  if (!theory) check::positive("lr", value);
  check::positive("lr-factor", factor);
}

double resolve_step_size(RunContext& ctx, const StepSize& lr, const UplinkOptions& uplink) {
  lr.validate();
  if (!lr.theory) return lr.value;
  const double factor = lr.factor;
  const FeedbackMechanism& feedback = feedback_mechanism(uplink.feedback);
  const std::string spec = uplink.compressor;
  const bool uncompressed = spec == "none";
  if (!(feedback.theory != TheoryStep::kNone || (uncompressed && feedback.stateless()))) {
    throw ConfigError("lr",
                      "'theory' is defined for --feedback ef21|ef21w and for uncompressed gd "
                      "(got --compressor " +
                          spec + " --feedback " + uplink.feedback + "); give a number");
  }
  if (compressor_registry().get(split_spec(spec).kind, spec).make.make_uplink) {
    throw ConfigError("lr", "'theory' is not defined for " + spec + "; give a number");
  }
  const auto L = gather_agent_smoothness(ctx);
  double l_am = 0, l_qm2 = 0;
  for (std::size_t a = 0; a < L.size(); ++a) {
    if (!std::isfinite(L[a]) || L[a] <= 0) {
      throw ConfigError("lr", "'theory' needs finite smoothness estimates L_i; the model '" +
                                  ctx.objective.name() + "' gives none");
    }
    const double p = ctx.agent_weights[a];
    l_am += p * L[a];
    l_qm2 += p * L[a] * L[a];
  }
  const double L_f = l_am;  // smoothness of Σ p_a f_a ≤ Σ p_a L_a
  if (uncompressed && feedback.stateless()) return factor / L_f;
  const auto c = make_compressor(spec, ctx.objective.dim(), uplink.precision);
  const double L_mean = feedback.theory == TheoryStep::kEf21W ? l_am : std::sqrt(l_qm2);
  return factor * ef21_step(L_f, L_mean, c->delta());
}

}  // namespace distopt
