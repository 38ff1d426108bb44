#include "distopt/run/compress_config.hpp"

#include "distopt/compress/compressor_registry.hpp"
#include "distopt/compress/feedback.hpp"

namespace distopt {

void add_uplink_options(po::options_description& d) {
  std::string down;  // the vector compressors only
  for (const auto& e : compressor_registry().entries()) {
    if (e.make.make) down += (down.empty() ? "" : " | ") + e.syntax;
  }
  add_option(d, "compressor", "none",
             ("uplink compressor: " + compressor_registry().choices()).c_str());
  add_option(
      d, "compressor-down", "none",
      ("downlink compressor of the model, with EF21-P primal error feedback: " + down).c_str());
  add_option(d, "feedback", "none", ("error feedback: " + feedback_registry().choices()).c_str());
  add_option(d, "wire-precision", "float64", "precision of values on the wire: float64 | float32");
  add_option(d, "econtrol-eta", "0.1", "EControl feedback strength eta (>= 0)");
  add_option(d, "econtrol-init", "gradient",
             "EControl's h_i^0: gradient (grad f_i(x^0), sent once uncompressed, as the "
             "authors' code) | zero");
  add_option(d, "lr-factor", "1", "multiplier of the theoretical step size (--lr theory)");
}

UplinkOptions uplink_options_from(const Config& c) {
  UplinkOptions o;
  o.compressor = c.get("compressor");
  o.feedback = c.get("feedback");
  o.precision = wire_precision_from_string("wire-precision", c.get("wire-precision"));
  // Read only for the feedback that uses them, so that EControl's options with another feedback
  // are reported as ignored; still validated (on a copy, which records no read), so a bad value
  // is an error whatever the feedback (defaults: UplinkOptions's, the same as the options').
  const Config& src = c;
  Config check = c;
  const Config& econtrol = o.feedback == "econtrol" ? src : check;
  const double eta = econtrol.get_nonnegative("econtrol-eta");
  const bool init_gradient =
      econtrol.get_choice("econtrol-init", {"gradient", "zero"}) == "gradient";
  if (o.feedback == "econtrol") {
    o.econtrol_eta = eta;
    o.econtrol_init_gradient = init_gradient;
  }
  o.validate();
  return o;
}

DownlinkOptions downlink_options_from(const Config& c) {
  DownlinkOptions o;
  o.compressor = c.get("compressor-down");
  o.precision = wire_precision_from_string("wire-precision", c.get("wire-precision"));
  o.validate();
  return o;
}

StepSize step_size_from(const Config& c) {
  StepSize s = StepSize::parse("lr", c.get("lr"));
  s.factor = c.get_positive("lr-factor");
  s.validate();
  return s;
}

}  // namespace distopt
