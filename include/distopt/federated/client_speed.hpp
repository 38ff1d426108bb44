#pragma once
// Heterogeneous client speeds for asynchronous federated learning (FedBuff, FedFix; ALGORITHMS.md
// §1): client i performs s_i local steps per unit of simulated time, so a local run of K_i steps
// takes τ_i = K_i / s_i. The speeds (--client-speed) are
//   constant[:V]          every client at V (default 1)
//   exponential:MEAN      s_i ~ Exp with mean MEAN (rate 1/MEAN)
//   lognormal:MU,SIGMA    s_i = exp(MU + SIGMA·z_i), z_i ~ N(0, 1)
//   file:PATH             one positive number per client, whitespace-separated, in client order
// A drawn speed comes from the stream keyed (seed, client, 0, Purpose::kClock) — the client's own
// clock stream — so it depends only on the seed and the client, not on the number of ranks, and
// every rank can compute every client's speed.
#include <cstdint>
#include <string>
#include <vector>

#include "distopt/core/types.hpp"

namespace distopt {

/// The distribution of the client speeds (--client-speed, see above).
struct ClientSpeedOptions {
  /// Which distribution.
  enum class Kind { kConstant, kExponential, kLognormal, kFile };
  Kind kind = Kind::kConstant;  ///< default: every client at `value`
  double value = 1.0;           ///< constant: the common speed (> 0; default 1)
  double mean = 1.0;            ///< exponential: the mean speed (> 0)
  double mu = 0.0;              ///< lognormal: mean of log s
  double sigma = 1.0;           ///< lognormal: standard deviation of log s (>= 0)
  std::string path;             ///< file: the per-client speeds

  /// Parses a --client-speed spec; ConfigError("client-speed", ...) when malformed or out of range.
  static ClientSpeedOptions parse(const std::string& spec);
  /// ConfigError("client-speed", ...) unless the parameters are in range (see the fields).
  void validate() const;
};

/// The speeds of clients 0..n−1 (above). Throws ConfigError("client-speed", ...) when the file
/// cannot be read, does not hold exactly n positive finite numbers, or a drawn speed is not a
/// positive finite number (e.g. an exponential draw that underflows).
std::vector<double> client_speeds(const ClientSpeedOptions& options, Index n, std::uint64_t seed);

}  // namespace distopt
