#pragma once
// Config keys -> the compression layer's typed options (--compressor, --feedback,
// --wire-precision, --econtrol-eta, --compressor-down, --lr-factor).
#include "distopt/compress/link_options.hpp"
#include "distopt/compress/step_size.hpp"
#include "distopt/run/config.hpp"

namespace distopt {

/// Declares the compression family's options (shared by every method with an uplink).
void add_uplink_options(po::options_description& d);
/// --compressor, --feedback, --wire-precision, --econtrol-eta as UplinkOptions, validated
/// (UplinkOptions::validate); ConfigError naming the key.
UplinkOptions uplink_options_from(const Config& config);
/// --compressor-down and --wire-precision as DownlinkOptions; ConfigError naming the key.
DownlinkOptions downlink_options_from(const Config& config);
/// --lr (a number or theory) and --lr-factor.
StepSize step_size_from(const Config& config);

}  // namespace distopt
