#include "distopt/core/parse.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "distopt/core/error.hpp"
#include "distopt/core/strings.hpp"

namespace distopt {

double parse_double(const std::string& key, const std::string& text) {
  const char* b = text.c_str();
  char* e = nullptr;
  errno = 0;
  const double v = std::strtod(b, &e);
  if (text.empty() || e == b || *e != '\0' || errno == ERANGE || !std::isfinite(v)) {
    throw ConfigError(key, "expected a number, got '" + text + "'");
  }
  return v;
}

std::int64_t parse_int(const std::string& key, const std::string& text) {
  const char* b = text.c_str();
  char* e = nullptr;
  errno = 0;
  const long long v = std::strtoll(b, &e, 10);
  if (text.empty() || e == b || *e != '\0' || errno == ERANGE) {
    // Accept integral values written as floats (1e6).
    double d = 0;
    try {
      d = parse_double(key, text);
    } catch (const ConfigError&) {
      throw ConfigError(key, "expected an integer, got '" + text + "'");
    }
    if (d != std::floor(d) || std::fabs(d) > 9.0e18) {
      throw ConfigError(key, "expected an integer, got '" + text + "'");
    }
    return static_cast<std::int64_t>(d);
  }
  return v;
}

std::map<std::string, std::string> parse_kv_list(const std::string& key, const std::string& text) {
  std::map<std::string, std::string> out;
  if (text.empty()) return out;
  for (const auto& item : split(text, ',')) {
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw ConfigError(key, "expected key=value, got '" + item + "'");
    }
    out[item.substr(0, eq)] = item.substr(eq + 1);
  }
  return out;
}

}  // namespace distopt
