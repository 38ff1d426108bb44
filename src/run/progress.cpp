#include "distopt/run/progress.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "distopt/core/error.hpp"

namespace distopt {

std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 9.0e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.17g", v);
  }
  return buf;
}

std::string json_string(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      o += '\\';
      o += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char b[8];
      std::snprintf(b, sizeof b, "\\u%04x", c);
      o += b;
    } else {
      o += c;
    }
  }
  return o + "\"";
}

namespace {

// The default columns in the order shown, each with its importance: when a table line would be
// wider than TablePrinter::kDefaultWidth, the least important are dropped first (round, loss,
// bytes and wall time always stay). Values are formatted narrowly (format_value) so that the
// federated, compression, gossip and bilevel defaults all fit in 80 columns.
struct DefaultColumn {
  const char* name;
  int importance;
};
constexpr DefaultColumn kDefaultColumns[] = {
    {"round", 100},     {"loss", 100},    {"grad_norm_sq", 2},    {"test_accuracy", 4},
    {"dist_to_opt", 3}, {"consensus", 1}, {"bytes_logical", 100}, {"wall_time", 100}};

bool starts_with(const std::string& s, const char* prefix) {
  return s.rfind(prefix, 0) == 0;
}
bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
bool is_bytes(const std::string& name) {
  return starts_with(name, "bytes");
}
bool is_seconds(const std::string& name) {
  return name == "wall_time" || name == "virtual_time" || starts_with(name, "time_");
}

/// A value in at most 11 characters: counts as integers (bytes with a k/M/G/T suffix),
/// accuracies with 4 decimals, seconds with 2, anything else as %.4e.
std::string format_value(const std::string& name, double v) {
  char buf[64];
  if (!std::isfinite(v)) {
    std::snprintf(buf, sizeof buf, "%g", v);
  } else if (is_bytes(name) && std::fabs(v) >= 1e4) {
    const char* units = "kMGTPE";
    double x = v / 1e3;
    int u = 0;
    while (std::fabs(x) >= 1e3 && u < 5) {
      x /= 1e3;
      ++u;
    }
    std::snprintf(buf, sizeof buf, "%.1f%c", x, units[u]);
  } else if (ends_with(name, "accuracy")) {
    std::snprintf(buf, sizeof buf, "%.4f", v);
  } else if (is_seconds(name)) {
    std::snprintf(buf, sizeof buf, "%.2f", v);
  } else if (v == std::floor(v) && std::fabs(v) < 1e9) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.4e", v);
  }
  return buf;
}

/// The column's width: its name, or the widest value format_value gives it.
int column_width(const std::string& name) {
  int values = 11;  // %.4e of a negative number
  if (name == "round") values = 6;
  if (is_bytes(name)) values = 7;               // 9999 or 999.9M (then 1.0G)
  if (ends_with(name, "accuracy")) values = 6;  // 0.8512
  if (name == "wall_time") values = 8;          // 99999.99 s
  return std::max(static_cast<int>(name.size()), values);
}

int line_width(const std::vector<std::string>& columns) {
  int w = 0;
  for (const auto& c : columns) w += column_width(c) + (w > 0 ? 1 : 0);
  return w;
}

}  // namespace

std::vector<std::string> split_names(const std::string& list) {
  std::vector<std::string> names;
  std::size_t pos = 0;
  while (pos <= list.size()) {
    const auto comma = std::min(list.find(',', pos), list.size());
    std::string n = list.substr(pos, comma - pos);
    const auto b = n.find_first_not_of(" \t"), e = n.find_last_not_of(" \t");
    if (b != std::string::npos) names.push_back(n.substr(b, e - b + 1));
    pos = comma + 1;
  }
  return names;
}

std::vector<std::string> TablePrinter::columns_for(const MetricRow& row,
                                                   const std::vector<std::string>& show) {
  std::vector<DefaultColumn> cols;
  for (const auto& c : kDefaultColumns) {
    if (row.has(c.name)) cols.push_back(c);
  }
  auto names_of = [](const std::vector<DefaultColumn>& cs) {
    std::vector<std::string> n;
    for (const auto& c : cs) n.emplace_back(c.name);
    return n;
  };
  while (line_width(names_of(cols)) > kDefaultWidth) {
    auto least = std::min_element(cols.begin(), cols.end(), [](const auto& a, const auto& b) {
      return a.importance < b.importance;
    });
    if (least == cols.end() || least->importance >= 100) break;
    cols.erase(least);
  }
  std::vector<std::string> names = names_of(cols);
  for (const auto& s : show) {
    if (std::find(names.begin(), names.end(), s) == names.end()) names.push_back(s);
  }
  return names;
}

void TablePrinter::check_metric_names(const MetricRow& row) {
  for (const auto& s : show_) {
    if (row.has(s)) continue;
    std::string names;
    for (const auto& [name, value] : row.items()) names += (names.empty() ? "" : ", ") + name;
    throw ConfigError("show", "no metric '" + s + "' in this run (available: " + names + ")");
  }
}

void TablePrinter::on_evaluation(const MetricRow& row) {
  if (!active_) return;
  if (!header_done_) {
    columns_ = columns_for(row, show_);
    std::string line;
    for (const auto& c : columns_) {
      char buf[128];
      std::snprintf(buf, sizeof buf, "%s%*s", line.empty() ? "" : " ", column_width(c), c.c_str());
      line += buf;
    }
    std::fprintf(out_, "%s\n", line.c_str());
    header_done_ = true;
  }
  std::string line;
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    char buf[128];
    std::snprintf(buf, sizeof buf, "%s%*s", i == 0 ? "" : " ", column_width(columns_[i]),
                  format_value(columns_[i], row.get(columns_[i])).c_str());
    line += buf;
  }
  std::fprintf(out_, "%s\n", line.c_str());
  std::fflush(out_);
}

void TablePrinter::on_message(const std::string& text) {
  if (!active_) return;
  std::fprintf(out_, "%s\n", text.c_str());
  std::fflush(out_);
}

void JsonLinesPrinter::on_evaluation(const MetricRow& row) {
  if (!active_) return;
  std::ostringstream os;
  os << "{";
  bool first = true;
  for (const auto& [n, v] : row.items()) {
    os << (first ? "" : ",") << json_string(n) << ":" << json_number(v);
    first = false;
  }
  os << "}\n";
  std::fputs(os.str().c_str(), out_);
  std::fflush(out_);
}

void JsonLinesPrinter::on_message(const std::string& text) {
  if (!active_) return;
  std::fprintf(out_, "{\"message\":%s}\n", json_string(text).c_str());
  std::fflush(out_);
}

}  // namespace distopt
