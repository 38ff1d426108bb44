#pragma once
// Range checks for the validate() of typed Options structs (Ceres style). Each throws a
// ConfigError naming the option key, with the same wording the command-line parser uses, so an
// error reads the same whether the value came from a config file or from C++.
#include <cstdint>
#include <string>
#include <vector>

/// @namespace distopt::check
/// @brief Range checks for Options::validate(); each throws ConfigError(key, ...) on a bad value.
namespace distopt::check {

/// v > 0 and finite.
void positive(const std::string& key, double v);
/// v >= 0 and finite.
void nonnegative(const std::string& key, double v);
/// v in [lo, hi], with either end open on request.
void in_range(const std::string& key, double v, double lo, double hi, bool lo_open = false,
              bool hi_open = false);
/// v >= lo.
void at_least(const std::string& key, std::int64_t v, std::int64_t lo);
/// v is one of the listed words.
void one_of(const std::string& key, const std::string& v, const std::vector<std::string>& choices);

}  // namespace distopt::check
