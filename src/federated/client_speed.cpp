#include "distopt/federated/client_speed.hpp"

#include <cmath>
#include <fstream>
#include <sstream>

#include "distopt/core/check.hpp"
#include "distopt/core/error.hpp"
#include "distopt/core/parse.hpp"
#include "distopt/core/random.hpp"
#include "distopt/core/strings.hpp"

namespace distopt {

namespace {
constexpr const char* kKey = "client-speed";
}  // namespace

ClientSpeedOptions ClientSpeedOptions::parse(const std::string& spec) {
  ClientSpeedOptions o;
  const auto colon = spec.find(':');
  const std::string kind = spec.substr(0, colon);
  const std::string args = colon == std::string::npos ? "" : spec.substr(colon + 1);
  const bool has_args = colon != std::string::npos;
  if (kind == "constant") {
    o.kind = Kind::kConstant;
    if (has_args) o.value = parse_double(kKey, args);
  } else if (kind == "exponential") {
    if (!has_args) throw ConfigError(kKey, "expected exponential:MEAN, got '" + spec + "'");
    o.kind = Kind::kExponential;
    o.mean = parse_double(kKey, args);
  } else if (kind == "lognormal") {
    const auto parts = split(args, ',');
    if (!has_args || parts.size() != 2) {
      throw ConfigError(kKey, "expected lognormal:MU,SIGMA, got '" + spec + "'");
    }
    o.kind = Kind::kLognormal;
    o.mu = parse_double(kKey, parts[0]);
    o.sigma = parse_double(kKey, parts[1]);
  } else if (kind == "file") {
    if (args.empty()) throw ConfigError(kKey, "expected file:PATH, got '" + spec + "'");
    o.kind = Kind::kFile;
    o.path = args;
  } else {
    throw ConfigError(kKey,
                      "must be constant[:V], exponential:MEAN, lognormal:MU,SIGMA or "
                      "file:PATH (got '" +
                          spec + "')");
  }
  o.validate();
  return o;
}

void ClientSpeedOptions::validate() const {
  switch (kind) {
    case Kind::kConstant:
      check::positive(kKey, value);
      if (!std::isfinite(value)) throw ConfigError(kKey, "the speed must be finite");
      break;
    case Kind::kExponential:
      check::positive(kKey, mean);
      if (!std::isfinite(mean)) throw ConfigError(kKey, "the mean must be finite");
      break;
    case Kind::kLognormal:
      if (!std::isfinite(mu)) throw ConfigError(kKey, "MU must be finite");
      check::nonnegative(kKey, sigma);
      if (!std::isfinite(sigma)) throw ConfigError(kKey, "SIGMA must be finite");
      break;
    case Kind::kFile:
      if (path.empty()) throw ConfigError(kKey, "file: needs a path");
      break;
  }
}

std::vector<double> client_speeds(const ClientSpeedOptions& o, Index n, std::uint64_t seed) {
  o.validate();
  std::vector<double> s(static_cast<std::size_t>(n), o.value);
  if (o.kind == ClientSpeedOptions::Kind::kFile) {
    std::ifstream in(o.path);
    if (!in) throw ConfigError(kKey, "cannot read '" + o.path + "'");
    std::vector<double> v;
    std::string tok;
    while (in >> tok) {
      const double x = parse_double(kKey, tok);
      if (!(x > 0) || !std::isfinite(x)) {
        throw ConfigError(kKey, o.path + ": speed " + tok + " is not a positive finite number");
      }
      v.push_back(x);
      if (static_cast<Index>(v.size()) > n) break;
    }
    if (static_cast<Index>(v.size()) != n) {
      throw ConfigError(
          kKey, o.path + " must hold one speed per client (--agents = " + std::to_string(n) + ")" +
                    (static_cast<Index>(v.size()) > n ? ", it holds more"
                                                      : ", it holds " + std::to_string(v.size())));
    }
    return v;
  }
  if (o.kind == ClientSpeedOptions::Kind::kConstant) return s;
  for (Index i = 0; i < n; ++i) {
    RandomStream rng(seed, static_cast<std::uint64_t>(i), 0, Purpose::kClock);
    double x = 0;
    if (o.kind == ClientSpeedOptions::Kind::kExponential) {
      x = rng.exponential(1.0 / o.mean);
    } else {
      x = std::exp(o.mu + o.sigma * rng.normal());
    }
    if (!(x > 0) || !std::isfinite(x)) {
      throw ConfigError(kKey, "client " + std::to_string(i) + " drew speed " + format_number(x) +
                                  ", not a positive finite number: change the parameters");
    }
    s[static_cast<std::size_t>(i)] = x;
  }
  return s;
}

}  // namespace distopt
