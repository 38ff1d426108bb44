#pragma once
// Configuration: every option can come from an INI file (--config) or the command line, and the
// command line wins. Options are declared by each layer (add_*_options) as strings with
// documented defaults; typed getters parse them and turn anything wrong into a ConfigError that
// names the option, so all validation happens before any training.
#include <boost/program_options.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "distopt/core/parse.hpp"
#include "distopt/core/strings.hpp"
#include "distopt/core/types.hpp"

namespace distopt {

namespace po = boost::program_options;

/// The resolved options of a run: every declared option's value as a string, given or defaulted
/// (see above).
class Config {
 public:
  Config() = default;
  /// Parses argv (after the subcommand) and, if --config FILE is given, the INI file.
  /// Unknown options (on the command line or in the file), missing files and malformed
  /// values throw ConfigError / FileError.
  static Config parse(const po::options_description& options, const std::vector<std::string>& args);
  /// Builds a config from key=value pairs (tests, library use); same validation.
  static Config from_map(const po::options_description& options,
                         const std::map<std::string, std::string>& values);

  /// True if `key` has a value: set explicitly or by a default.
  bool has(const std::string& key) const;
  /// True if `key` was set explicitly (command line, INI file or set()), not defaulted.
  bool given(const std::string& key) const;
  /// The value of `key`; ConfigError(key, "is required") if it has none.
  std::string get(const std::string& key) const;
  /// The value as a number; ConfigError(key, ...) if absent or malformed.
  double get_double(const std::string& key) const;
  /// The value as an integer; ConfigError(key, ...) if absent or malformed.
  std::int64_t get_int(const std::string& key) const;
  /// The value as an integer >= 0; ConfigError(key, ...) otherwise.
  std::uint64_t get_uint(const std::string& key) const;
  /// true/1/yes/on or false/0/no/off; ConfigError(key, ...) otherwise.
  bool get_bool(const std::string& key) const;

  // Checked getters: throw ConfigError naming the key unless the value is in range.
  /// A number > 0; ConfigError(key, ...) otherwise.
  double get_positive(const std::string& key) const;
  /// A number >= 0; ConfigError(key, ...) otherwise.
  double get_nonnegative(const std::string& key) const;
  /// A number in [lo, hi], the ends excluded where lo_open / hi_open; ConfigError(key, ...)
  /// otherwise.
  double get_in(const std::string& key, double lo, double hi, bool lo_open = false,
                bool hi_open = false) const;
  /// An integer >= lo; ConfigError(key, ...) otherwise.
  std::int64_t get_int_at_least(const std::string& key, std::int64_t lo) const;
  /// One of the listed words; ConfigError(key, "must be one of ...") otherwise.
  std::string get_choice(const std::string& key, const std::vector<std::string>& choices) const;

  /// Every resolved option (given or defaulted) as strings: recorded in result files.
  const std::map<std::string, std::string>& values() const { return values_; }
  /// Sets `key` to `value` as if given explicitly (tests, resume); not validated.
  void set(const std::string& key, const std::string& value);

  // Read tracking: every getter above (get() and those built on it) records its key, so that
  // after an experiment is built the options the user set but nothing read can be reported
  // (distopt: warning: option --mu is ignored ...). has() and given() do not count as reads:
  // they only ask whether a value exists. A copy carries the reads made so far; reads on the
  // copy are not seen by the original (validate on a copy to check a value without "using" it).
  // Not thread-safe: read a Config from one thread.
  /// Marks `key` as read without reading it (an option used outside the getters).
  void mark_read(const std::string& key) const { read_.insert(key); }
  /// True if a getter read `key` (or mark_read() marked it) since parse().
  bool was_read(const std::string& key) const { return read_.count(key) > 0; }
  /// The keys given explicitly (given()) that no getter read, in key order.
  std::vector<std::string> given_but_unread() const;

 private:
  std::map<std::string, std::string> values_;
  std::map<std::string, bool> given_;
  mutable std::set<std::string> read_;  // keys the getters returned (see "Read tracking")
};

/// Declares an option that takes a value, with a default shown in --help.
void add_option(po::options_description& d, const char* name, const char* default_value,
                const char* help);
/// Declares an option without a default (absent unless given).
void add_option(po::options_description& d, const char* name, const char* help);

}  // namespace distopt
