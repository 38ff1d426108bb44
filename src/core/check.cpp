#include "distopt/core/check.hpp"

#include <cmath>
#include <sstream>

#include "distopt/core/error.hpp"
#include "distopt/core/strings.hpp"

namespace distopt::check {

void positive(const std::string& key, double v) {
  if (!(v > 0) || !std::isfinite(v))
    throw ConfigError(key, "must be positive (got " + format_number(v) + ")");
}

void nonnegative(const std::string& key, double v) {
  if (!(v >= 0) || !std::isfinite(v))
    throw ConfigError(key, "must be non-negative (got " + format_number(v) + ")");
}

void in_range(const std::string& key, double v, double lo, double hi, bool lo_open, bool hi_open) {
  const bool ok = (lo_open ? v > lo : v >= lo) && (hi_open ? v < hi : v <= hi);
  if (!ok) {
    std::ostringstream os;
    os << "must be in " << (lo_open ? "(" : "[") << lo << ", " << hi << (hi_open ? ")" : "]")
       << " (got " << v << ")";
    throw ConfigError(key, os.str());
  }
}

void at_least(const std::string& key, std::int64_t v, std::int64_t lo) {
  if (v < lo) {
    throw ConfigError(
        key, "must be at least " + std::to_string(lo) + " (got " + std::to_string(v) + ")");
  }
}

void one_of(const std::string& key, const std::string& v, const std::vector<std::string>& choices) {
  for (const auto& c : choices) {
    if (v == c) return;
  }
  std::string list;
  for (const auto& c : choices) list += (list.empty() ? "" : "|") + c;
  throw ConfigError(key, "must be one of " + list + " (got '" + v + "')");
}

}  // namespace distopt::check
