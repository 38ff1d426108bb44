#include "distopt/run/config.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "distopt/core/error.hpp"

namespace distopt {

void add_option(po::options_description& d, const char* name, const char* default_value,
                const char* help) {
  d.add_options()(name, po::value<std::string>()->default_value(default_value), help);
}

void add_option(po::options_description& d, const char* name, const char* help) {
  d.add_options()(name, po::value<std::string>(), help);
}

namespace {

std::string option_name(const po::error_with_option_name& e) {
  std::string n = e.get_option_name();
  while (!n.empty() && n.front() == '-') n.erase(n.begin());
  return n.empty() ? "config" : n;
}

}  // namespace

Config Config::parse(const po::options_description& options, const std::vector<std::string>& args) {
  po::variables_map vm;
  try {
    auto parsed = po::command_line_parser(args).options(options).run();
    // An option given twice on the command line takes its last value (as a later flag overrides
    // an earlier one in most tools), instead of Boost's "specified more than once" error.
    auto& opts = parsed.options;
    for (auto it = opts.begin(); it != opts.end();) {
      const bool later = std::any_of(std::next(it), opts.end(),
                                     [&](const auto& o) { return o.string_key == it->string_key; });
      it = later && !it->string_key.empty() ? opts.erase(it) : std::next(it);
    }
    po::store(parsed, vm);
    if (vm.count("config") && !vm["config"].defaulted()) {
      const auto path = vm["config"].as<std::string>();
      // An ifstream opens a directory and reads nothing from it: the options of the file the
      // user meant would be silently missing.
      std::error_code ec;
      if (std::filesystem::is_directory(path, ec)) {
        throw FileError(path, "is a directory, not a config file");
      }
      std::ifstream in(path);
      if (!in) throw FileError(path, "cannot open config file");
      // Stored after the command line: store() never overwrites, so the command line wins.
      po::store(po::parse_config_file(in, options, /*allow_unregistered=*/false), vm);
    }
    po::notify(vm);
  } catch (const po::unknown_option& e) {
    throw ConfigError(option_name(e), "unknown option");
  } catch (const po::error_with_option_name& e) {
    throw ConfigError(option_name(e), e.what());
  } catch (const po::error& e) {
    throw InputError(std::string("command line: ") + e.what());
  }
  Config c;
  for (const auto& [key, value] : vm) {
    if (value.empty()) continue;
    const auto* s = boost::any_cast<std::string>(&value.value());
    if (!s) continue;
    c.values_[key] = *s;
    c.given_[key] = !value.defaulted();
  }
  return c;
}

Config Config::from_map(const po::options_description& options,
                        const std::map<std::string, std::string>& values) {
  std::vector<std::string> args;
  for (const auto& [k, v] : values) {
    // --key=value: also right for options with an implicit value (--overwrite).
    if (v.empty()) {
      args.push_back("--" + k);
      args.push_back(v);
    } else {
      args.push_back("--" + k + "=" + v);
    }
  }
  return parse(options, args);
}

bool Config::has(const std::string& key) const { return values_.count(key) > 0; }

bool Config::given(const std::string& key) const {
  auto it = given_.find(key);
  return it != given_.end() && it->second;
}

std::string Config::get(const std::string& key) const {
  auto it = values_.find(key);
  if (it == values_.end()) throw ConfigError(key, "is required");
  read_.insert(key);
  return it->second;
}

std::vector<std::string> Config::given_but_unread() const {
  std::vector<std::string> keys;
  for (const auto& [key, given] : given_) {
    if (given && !read_.count(key)) keys.push_back(key);
  }
  return keys;
}

void Config::set(const std::string& key, const std::string& value) {
  values_[key] = value;
  given_[key] = true;
}

double Config::get_double(const std::string& key) const { return parse_double(key, get(key)); }
std::int64_t Config::get_int(const std::string& key) const { return parse_int(key, get(key)); }
std::uint64_t Config::get_uint(const std::string& key) const {
  const auto v = get_int(key);
  if (v < 0) throw ConfigError(key, "must be non-negative (got " + get(key) + ")");
  return static_cast<std::uint64_t>(v);
}

bool Config::get_bool(const std::string& key) const {
  const auto v = get(key);
  if (v == "true" || v == "1" || v == "yes" || v == "on") return true;
  if (v == "false" || v == "0" || v == "no" || v == "off") return false;
  throw ConfigError(key, "expected true or false, got '" + v + "'");
}

double Config::get_positive(const std::string& key) const {
  const double v = get_double(key);
  if (!(v > 0)) throw ConfigError(key, "must be positive (got " + get(key) + ")");
  return v;
}

double Config::get_nonnegative(const std::string& key) const {
  const double v = get_double(key);
  if (!(v >= 0)) throw ConfigError(key, "must be non-negative (got " + get(key) + ")");
  return v;
}

double Config::get_in(const std::string& key, double lo, double hi, bool lo_open,
                      bool hi_open) const {
  const double v = get_double(key);
  const bool ok = (lo_open ? v > lo : v >= lo) && (hi_open ? v < hi : v <= hi);
  if (!ok) {
    std::ostringstream os;
    os << "must be in " << (lo_open ? "(" : "[") << lo << ", " << hi << (hi_open ? ")" : "]")
       << " (got " << get(key) << ")";
    throw ConfigError(key, os.str());
  }
  return v;
}

std::int64_t Config::get_int_at_least(const std::string& key, std::int64_t lo) const {
  const auto v = get_int(key);
  if (v < lo) {
    throw ConfigError(key, "must be at least " + std::to_string(lo) + " (got " + get(key) + ")");
  }
  return v;
}

std::string Config::get_choice(const std::string& key, const std::vector<std::string>& choices) const {
  const auto v = get(key);
  for (const auto& c : choices) {
    if (v == c) return v;
  }
  std::string list;
  for (const auto& c : choices) list += (list.empty() ? "" : "|") + c;
  throw ConfigError(key, "must be one of " + list + " (got '" + v + "')");
}

}  // namespace distopt
