#include "distopt/data/memory_budget.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>

#include "distopt/core/error.hpp"

namespace distopt {

namespace {

/// MemTotal of /proc/meminfo in bytes, 0 if unknown (not Linux, no procfs).
std::uint64_t mem_total() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  std::uint64_t kib = 0;
  std::string unit;
  while (in >> key >> kib >> unit) {
    if (key == "MemTotal:") return checked_mul(kib, 1024).value_or(0);
    kib = 0;
  }
  return 0;
}

}  // namespace

std::uint64_t default_max_memory() {
  static const std::uint64_t v = [] {
    const std::uint64_t total = mem_total();
    return total > 0 ? total / 4 * 3 : kFallbackMaxMemory;
  }();
  return v;
}

std::uint64_t effective_max_memory(std::uint64_t max_memory) {
  return max_memory > 0 ? max_memory : default_max_memory();
}

std::uint64_t parse_memory_size(const std::string& key, const std::string& text) {
  if (text.empty() || text == "auto") return 0;
  const auto bad = [&] {
    return ConfigError(key,
                       "expected bytes with an optional K, M, G or T suffix (powers of "
                       "1024), or 'auto', got '" +
                           text + "'");
  };
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    throw bad();
  }
  std::string suffix = text.substr(used);
  for (auto& ch : suffix) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  int shift = 0;
  if (!suffix.empty()) {
    const std::string units = "KMGT";
    const auto u = units.find(suffix[0]);
    const std::string rest = suffix.substr(1);
    if (u == std::string::npos || !(rest.empty() || rest == "B" || rest == "IB")) throw bad();
    shift = 10 * static_cast<int>(u + 1);
  }
  const double bytes = std::ldexp(v, shift);
  if (!std::isfinite(bytes) || bytes < 1) {
    throw ConfigError(key, "must be at least 1 byte, got '" + text + "'");
  }
  if (bytes >= 0x1p64) throw ConfigError(key, "'" + text + "' does not fit in 64 bits");
  return static_cast<std::uint64_t>(bytes);
}

std::string format_bytes(std::uint64_t bytes) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 6) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  if (u == 0) {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  } else {
    std::snprintf(buf, sizeof buf,
                  v < 10    ? "%.2f %s"
                  : v < 100 ? "%.1f %s"
                            : "%.0f %s",
                  v, kUnits[u]);
  }
  return buf;
}

std::optional<std::uint64_t> checked_mul(std::uint64_t a, std::uint64_t b) {
  if (a != 0 && b > std::numeric_limits<std::uint64_t>::max() / a) return std::nullopt;
  return a * b;
}

std::optional<std::string> memory_excess(const std::string& what, std::uint64_t count,
                                         std::uint64_t bytes_each, std::uint64_t max_memory) {
  const std::uint64_t budget = effective_max_memory(max_memory);
  const auto bytes = checked_mul(count, bytes_each);
  if (bytes && *bytes <= budget) return std::nullopt;
  return what + " needs " + (bytes ? format_bytes(*bytes) : "more than 2^64 bytes") +
         ", more than --max-memory " + format_bytes(budget);
}

void check_memory(const std::string& path, const std::string& what, std::uint64_t count,
                  std::uint64_t bytes_each, std::uint64_t max_memory) {
  if (auto excess = memory_excess(what, count, bytes_each, max_memory)) {
    throw FileError(path, *excess);
  }
}

}  // namespace distopt
