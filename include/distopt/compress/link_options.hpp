#pragma once
// Typed options of the uplink and the downlink (Ceres style: documented defaults, validate()
// naming the command-line key). The command line maps --compressor, --feedback,
// --wire-precision, --econtrol-eta and --compressor-down onto these in run/compress_config.cpp;
// C++ users fill them directly.
#include <string>

#include "distopt/compress/wire.hpp"

namespace distopt {

/// How agents' vectors reach the server (compress/uplink.hpp).
struct UplinkOptions {
  /// --compressor: `none` | `topk:<k or fraction>` | `randk:<k or fraction>` | `qsgd:<levels>` |
  /// `natural` | `sign` | `powersgd:<rank>`, or a name added to compressor_registry(); default
  /// none.
  std::string compressor = "none";
  /// --feedback: none | ef14 | ef21 | ef21w | econtrol, or a name added to feedback_registry();
  /// default none.
  std::string feedback = "none";
  /// --wire-precision: precision of the values on the wire (float64 | float32); default float64.
  WirePrecision precision = WirePrecision::kFloat64;
  /// --econtrol-eta: EControl's feedback strength η >= 0; default 0.1.
  double econtrol_eta = 0.1;
  /// --econtrol-init: EControl's h_i⁰. true (`gradient`, the default): h_i⁰ = ∇f_i(x⁰), sent
  /// once uncompressed, as the EControl authors' code starts; false (`zero`): h_i⁰ = 0 and the
  /// first message is compressed like every other (compress/econtrol_state.hpp).
  bool econtrol_init_gradient = true;
  /// Checks what can be checked without the model: the feedback name exists
  /// (ConfigError("feedback")) and η >= 0 (ConfigError("econtrol-eta")); the compressor spec and
  /// its parameters (k <= d, ...) are checked when the uplink is built (make_uplink).
  void validate() const;
};

/// The server-to-agent model (compress/downlink.hpp).
struct DownlinkOptions {
  /// --compressor-down: none (dense model) or a vector compressor spec (not powersgd); default
  /// none.
  std::string compressor = "none";
  /// --wire-precision (shared with the uplink on the command line); default float64.
  WirePrecision precision = WirePrecision::kFloat64;
  /// Checks nothing today: the spec is checked against the model by make_downlink()
  /// (ConfigError("compressor-down")).
  void validate() const;
};

}  // namespace distopt
