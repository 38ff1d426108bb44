#include "distopt/data/class_filter.hpp"

#include <cerrno>
#include <cstdlib>

#include "distopt/core/error.hpp"

namespace distopt {

ClassFilter::ClassFilter(const std::string& option, const std::string& what,
                         const std::string& list, int n_classes)
    : position_(static_cast<std::size_t>(n_classes), -1) {
  const auto fail = [&](const std::string& why) {
    throw ConfigError(option, what + ": classes=" + list + ": " + why);
  };
  const std::string range = "0.." + std::to_string(n_classes - 1);
  std::size_t pos = 0;
  while (pos <= list.size()) {
    const auto comma = std::min(list.find(',', pos), list.size());
    const auto item = list.substr(pos, comma - pos);
    char* end = nullptr;
    errno = 0;
    const long v = item.empty() ? 0 : std::strtol(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || errno == ERANGE) {
      fail("'" + item + "' is not a class (expected integers in " + range + ")");
    }
    if (v < 0 || v >= n_classes) fail("class " + item + " is outside " + range);
    auto& p = position_[static_cast<std::size_t>(v)];
    if (p >= 0) fail("class " + item + " is given twice");
    p = static_cast<int>(classes_.size());
    classes_.push_back(static_cast<int>(v));
    pos = comma + 1;
  }
  if (classes_.size() < 2) fail("needs at least two classes");
}

int ClassFilter::position(int raw) const {
  return raw >= 0 && raw < static_cast<int>(position_.size())
             ? position_[static_cast<std::size_t>(raw)]
             : -1;
}

double ClassFilter::label(int raw) const {
  const int p = position(raw);
  if (task() == Task::kBinary) return p == 0 ? -1.0 : 1.0;
  return static_cast<double>(p);
}

std::vector<Index> ClassFilter::kept_rows(std::span<const std::uint8_t> labels) const {
  std::vector<Index> rows;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (keeps(labels[i])) rows.push_back(static_cast<Index>(i));
  }
  return rows;
}

std::string ClassFilter::text() const {
  std::string s;
  for (const int c : classes_) s += (s.empty() ? "" : ",") + std::to_string(c);
  return s;
}

}  // namespace distopt
