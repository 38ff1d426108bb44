#pragma once
// Parsing of option values and spec strings ("topk:0.01", "dirichlet:0.3", "k1=v1,k2=v2"). Every
// failure is a ConfigError naming the option the text came from, so a user sees which key is
// wrong whether the text came from the command line, an INI file or a C++ Options struct.
#include <cstdint>
#include <map>
#include <string>

namespace distopt {

/// Parses a finite number; throws ConfigError(key, "expected a number, got '...'").
double parse_double(const std::string& key, const std::string& text);
/// Parses an integer (integral values written as floats, 1e6, are accepted).
std::int64_t parse_int(const std::string& key, const std::string& text);
/// Parses "k1=v1,k2=v2" into a map; throws ConfigError(key, ...) on malformed items.
std::map<std::string, std::string> parse_kv_list(const std::string& key, const std::string& text);

}  // namespace distopt
