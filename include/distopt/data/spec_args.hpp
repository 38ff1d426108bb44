#pragma once
// "key=value,key=value" parameters of a spec string such as
// "synthetic:fedprox:alpha=0.5,beta=0.5" or "dirichlet:0.3". Each getter declares a key with its
// default; finish() rejects keys nobody asked for, so a typo is an error naming the key and the
// known ones instead of a silently ignored setting. Errors are ConfigError(option, ...).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "distopt/core/types.hpp"

namespace distopt {

/// The key=value parameters of one spec, read by typed getters (see the file comment). Every
/// getter records its key as known, whether or not the spec gave it.
class SpecArgs {
 public:
  /// `option` is the command-line option the spec came from (e.g. "data"), `what` names the
  /// spec in messages (e.g. "synthetic:fedprox"), `text` is the key=value list (may be empty).
  /// ConfigError(option, ...) for an item without '=' or a key given twice.
  SpecArgs(std::string option, std::string what, const std::string& text);

  /// Whether the spec sets `key` (does not mark it known).
  bool given(const std::string& key) const { return values_.count(key) > 0; }
  /// The finite number `key` is set to, or `fallback`; ConfigError if it is not a number.
  double number(const std::string& key, double fallback);
  /// A number with lo <= v (lo < v if lo_open) and v <= hi (v < hi if hi_open).
  double number_in(const std::string& key, double fallback, double lo, double hi,
                   bool lo_open = false, bool hi_open = false);
  /// An integer >= lo (integral values written as floats, 1e3, are accepted), or `fallback`.
  std::int64_t integer(const std::string& key, std::int64_t fallback, std::int64_t lo);
  /// The text `key` is set to (unchecked), or `fallback`.
  std::string text(const std::string& key, const std::string& fallback);
  /// Throws ConfigError naming the first unknown key.
  void finish() const;

  /// Raises ConfigError(option, what + ": " + message).
  [[noreturn]] void fail(const std::string& message) const;

 private:
  std::string option_, what_;
  std::map<std::string, std::string> values_;
  std::vector<std::string> known_;
};

/// Splits "head:rest" at the first ':' (rest empty if there is none).
std::pair<std::string, std::string> split_head(const std::string& s);

}  // namespace distopt
