#include "distopt/run/compress_config.hpp"

namespace distopt {

void add_uplink_options(po::options_description& d) {
  add_option(d, "compressor", "none",
             "uplink compressor: none | topk:<k or fraction> | randk:<k or fraction> | qsgd:<levels> | "
             "natural | sign | powersgd:<rank>");
  add_option(d, "compressor-down", "none",
             "downlink compressor of the model, with EF21-P primal error feedback: none | "
             "topk:<k or fraction> | randk:<k or fraction> | qsgd:<levels> | natural | sign");
  add_option(d, "feedback", "none", "error feedback: none | ef14 | ef21 | ef21w | econtrol");
  add_option(d, "wire-precision", "float64", "precision of values on the wire: float64 | float32");
  add_option(d, "econtrol-eta", "0.1", "EControl feedback strength eta (>= 0)");
  add_option(d, "lr-factor", "1", "multiplier of the theoretical step size (--lr theory)");
}

UplinkOptions uplink_options_from(const Config& c) {
  UplinkOptions o;
  o.compressor = c.get("compressor");
  o.feedback = c.get("feedback");
  o.precision = wire_precision_from_string("wire-precision", c.get("wire-precision"));
  o.econtrol_eta = c.get_nonnegative("econtrol-eta");
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

}  // namespace distopt
