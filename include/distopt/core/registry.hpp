#pragma once
// One registry per extension point (methods, compressors, feedback, objectives, data sources,
// graphs, partitions). A name is written once, in its entry: the factory looks it up there, the
// "unknown ... (known: ...)" error lists the entries, and the --help text is generated from them.
// User code adds entries before parsing options (Registry::add), and the command line, the INI
// files and the C++ Options structs then accept the new name like a built-in one.
//
//   auto& r = compressor_registry();
//   r.add({"mycomp", "mycomp:<k>", "my compressor", [](const CompressorArgs& a) { ... }});
//
// Entries keep the order they were added in (built-ins first), which is the order of --help.
#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "distopt/core/error.hpp"

namespace distopt {

/// The named entries of one extension point, each with its factory (see the file comment).
/// `Factory` is the callable type that builds the object from parsed arguments.
template <class Factory>
class Registry {
 public:
  /// One registered name with its syntax, help line and factory.
  struct Entry {
    std::string name;    ///< what a spec starts with: "topk" in "topk:0.01"
    std::string syntax;  ///< how it is written, for --help and errors: `topk:<k or fraction>`
    std::string help;    ///< one line of --help text
    Factory make;        ///< builds the object from the parsed spec
  };

  /// `what` names the thing in errors ("compressor"); `option` is the key errors name.
  Registry(std::string what, std::string option)
      : what_(std::move(what)), option_(std::move(option)) {}

  /// Adds an entry (an empty syntax becomes the name); a name already registered throws Error,
  /// an internal error (two extensions would clash).
  void add(Entry e) {
    if (find(e.name)) throw Error(what_ + " '" + e.name + "' is registered twice");
    if (e.syntax.empty()) e.syntax = e.name;
    entries_.push_back(std::move(e));
  }
  /// The entry named `name`, or nullptr.
  const Entry* find(std::string_view name) const {
    const auto it = std::find_if(entries_.begin(), entries_.end(),
                                 [&](const Entry& e) { return e.name == name; });
    return it == entries_.end() ? nullptr : &*it;
  }
  /// The entry named `name`; ConfigError(option) naming the known entries otherwise. `spec` is
  /// what the user wrote (defaults to the name); `option` overrides the key the error names
  /// (e.g. "compressor-down" for the compressor registry).
  const Entry& get(std::string_view name, std::string_view spec = {},
                   std::string_view option = {}) const {
    if (const Entry* e = find(name)) return *e;
    throw unknown(spec.empty() ? name : spec, option);
  }
  /// The error get() throws for an unknown name: ConfigError(option, "unknown \<what\>
  /// '\<spec\>' (known: ...)"). For factories that reject a spec of a known kind as if it were
  /// unknown ("logistic:3").
  ConfigError unknown(std::string_view spec, std::string_view option = {}) const {
    return ConfigError(
        option.empty() ? option_ : std::string(option),
        "unknown " + what_ + " '" + std::string(spec) + "' (known: " + known() + ")");
  }
  /// `none, topk:<k or fraction>, ...`: every entry's syntax, comma-separated.
  std::string known() const { return join(", "); }
  /// `none | topk:<k or fraction> | ...`: the value part of the option's --help line.
  std::string choices() const { return join(" | "); }
  /// One line per entry: "  syntax  help", the syntaxes padded to a common width.
  std::string help_lines() const {
    std::size_t w = 0;
    for (const auto& e : entries_) w = std::max(w, e.syntax.size());
    std::string out;
    for (const auto& e : entries_) {
      out += "  " + e.syntax + std::string(w - e.syntax.size() + 2, ' ') + e.help + "\n";
    }
    return out;
  }
  /// Every entry, in the order added (built-ins first).
  const std::vector<Entry>& entries() const { return entries_; }
  /// The option key that errors name by default ("compressor").
  const std::string& option() const { return option_; }

 private:
  std::string join(const char* sep) const {
    std::string out;
    for (const auto& e : entries_) out += (out.empty() ? "" : sep) + e.syntax;
    return out;
  }
  std::string what_;
  std::string option_;
  std::vector<Entry> entries_;
};

/// Splits "kind:arg" at the first ':' into {"kind", "arg"} (arg empty without a colon) and tells
/// whether a colon was present.
struct SpecParts {
  std::string kind;      ///< the text before the first ':' (all of it without a colon)
  std::string arg;       ///< the text after the first ':' (empty without a colon)
  bool has_arg = false;  ///< whether the spec had a colon
};
/// Splits `spec` at its first ':' (see SpecParts):
/// split_spec("topk:0.01") = {"topk", "0.01", true}.
inline SpecParts split_spec(const std::string& spec) {
  const auto colon = spec.find(':');
  if (colon == std::string::npos) return {spec, "", false};
  return {spec.substr(0, colon), spec.substr(colon + 1), true};
}

}  // namespace distopt
