#include "distopt/run/results_command.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <set>
#include <sstream>

#include "distopt/core/error.hpp"
#include "distopt/io/hdf5.hpp"

#ifndef DISTOPT_INSTALL_BINDIR
#define DISTOPT_INSTALL_BINDIR ""
#endif

namespace distopt {

namespace {

/// What compare reads from one result file.
struct ResultSummary {
  std::string path;
  std::map<std::string, std::string> config;           ///< /config attributes as text
  std::map<std::string, std::vector<double>> metrics;  ///< /metrics/<name>
  std::string termination;                             ///< /summary@termination
  std::string rounds_done;                             ///< /summary@rounds_done
};

std::string number(double v) {
  if (std::isnan(v)) return "nan";
  std::ostringstream o;
  o.precision(10);
  o << v;
  return o.str();
}

/// An attribute as text (strings verbatim, numbers as compare prints them).
std::string attribute_text(const h5::Node& node, const std::string& name) {
  const auto info = node.attr_info(name);
  if (info.type == h5::Type::kString) return node.attr_string(name);
  if (info.type == h5::Type::kOther) return "?";
  const auto v = node.attr_doubles(name);
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + number(v[i]);
  return s;
}

ResultSummary read_result(const std::string& path) {
  const auto f = h5::File::open(path);
  if (!f.has_attr("kind") || f.attr_string("kind") != "distopt-result" || !f.is_group("config") ||
      !f.is_group("metrics")) {
    throw FileError(path, "not a distopt result file (no /config and /metrics; see distopt info)");
  }
  ResultSummary r;
  r.path = path;
  const auto cfg = f.group("config");
  for (const auto& a : cfg.attr_names()) r.config[a] = attribute_text(cfg, a);
  const auto metrics = f.group("metrics");
  for (const auto& m : metrics.children()) {
    if (metrics.is_array(m)) r.metrics[m] = metrics.array(m).read_doubles();
  }
  if (f.is_group("summary")) {
    const auto s = f.group("summary");
    if (s.has_attr("termination")) r.termination = attribute_text(s, "termination");
    if (s.has_attr("rounds_done")) r.rounds_done = attribute_text(s, "rounds_done");
  }
  return r;
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

/// Counters and clocks: only their final value is shown.
bool is_counter(const std::string& m) {
  return m == "round" || m == "messages" || ends_with(m, "_clients") || m == "wall_time" ||
         m == "virtual_time" || m.rfind("bytes", 0) == 0 || m.rfind("time_", 0) == 0 ||
         ends_with(m, "_evals") || ends_with(m, "_events");
}

/// Best value of a metric: max for accuracies, min otherwise (NaN ignored).
std::string best_of(const std::string& name, const std::vector<double>& v) {
  const bool larger = name.find("accuracy") != std::string::npos;
  double best = std::numeric_limits<double>::quiet_NaN();
  for (double x : v) {
    if (std::isnan(x)) continue;
    if (std::isnan(best) || (larger ? x > best : x < best)) best = x;
  }
  return number(best);
}

/// Prints rows as a left-aligned table with two spaces between columns.
void print_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width;
  for (const auto& r : rows) {
    width.resize(std::max(width.size(), r.size()), 0);
    for (std::size_t c = 0; c < r.size(); ++c) width[c] = std::max(width[c], r[c].size());
  }
  for (const auto& r : rows) {
    std::string line = " ";
    for (std::size_t c = 0; c < r.size(); ++c) {
      line += " " + r[c];
      if (c + 1 < r.size()) line += std::string(width[c] - r[c].size() + 1, ' ');
    }
    std::printf("%s\n", line.c_str());
  }
}

void compare(const std::vector<std::string>& paths) {
  std::vector<ResultSummary> runs;
  for (const auto& p : paths) runs.push_back(read_result(p));
  std::vector<std::string> header{""};
  std::printf("files:\n");
  for (std::size_t i = 0; i < runs.size(); ++i) {
    std::printf("  [%zu] %s\n", i + 1, runs[i].path.c_str());
    header.push_back("[" + std::to_string(i + 1) + "]");
  }

  std::vector<std::map<std::string, std::string>> configs;
  for (const auto& r : runs) configs.push_back(r.config);
  const auto keys = differing_options(configs);
  if (keys.empty()) {
    std::printf("\noptions: the same in every file\n");
  } else {
    std::printf("\noptions that differ:\n");
    std::vector<std::vector<std::string>> rows{header};
    for (const auto& k : keys) {
      std::vector<std::string> row{k};
      for (const auto& r : runs) {
        auto it = r.config.find(k);
        row.push_back(it == r.config.end() ? "-" : it->second);
      }
      rows.push_back(std::move(row));
    }
    print_table(rows);
  }

  std::printf(
      "\nmetrics (final, and best: max for *accuracy*, min for the others; counters final "
      "only):\n");
  std::vector<std::vector<std::string>> rows{header};
  rows[0].insert(rows[0].begin() + 1, "");
  auto add = [&](const std::string& label, const std::string& what, auto value) {
    std::vector<std::string> row{label, what};
    for (const auto& r : runs) row.push_back(value(r));
    rows.push_back(std::move(row));
  };
  add("rounds_done", "",
      [](const ResultSummary& r) { return r.rounds_done.empty() ? "-" : r.rounds_done; });
  add("termination", "",
      [](const ResultSummary& r) { return r.termination.empty() ? "-" : r.termination; });
  std::set<std::string> names;
  for (const auto& r : runs) {
    for (const auto& [m, v] : r.metrics) names.insert(m);
  }
  for (const auto& m : names) {
    auto final_value = [&](const ResultSummary& r) -> std::string {
      auto it = r.metrics.find(m);
      return it == r.metrics.end() || it->second.empty() ? "-" : number(it->second.back());
    };
    add(m, "final", final_value);
    if (is_counter(m)) continue;
    add("", "best", [&](const ResultSummary& r) -> std::string {
      auto it = r.metrics.find(m);
      return it == r.metrics.end() || it->second.empty() ? "-" : best_of(m, it->second);
    });
  }
  print_table(rows);
  std::fflush(stdout);
}

/// Splits argv[1..] into files and options; --help sets `help`.
std::vector<std::string> files_of(int argc, char** argv, bool& help) {
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      help = true;
    } else if (a.size() > 1 && a[0] == '-') {
      std::string name = a;
      while (!name.empty() && name.front() == '-') name.erase(name.begin());
      throw ConfigError(name, "unknown option");
    } else {
      files.push_back(a);
    }
  }
  return files;
}

/// The plotting script: $DISTOPT_PLOT_SCRIPT, else beside the executable, else in the install's
/// bin directory. Empty if none exists.
std::string find_plot_script() {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (const char* env = std::getenv("DISTOPT_PLOT_SCRIPT"); env && *env) return env;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  std::vector<fs::path> candidates;
  if (!ec) candidates.push_back(exe.parent_path() / "distopt_plot.py");
  if (std::strlen(DISTOPT_INSTALL_BINDIR) > 0) {
    candidates.push_back(fs::path(DISTOPT_INSTALL_BINDIR) / "distopt_plot.py");
  }
  for (const auto& c : candidates) {
    if (fs::is_regular_file(c, ec)) return c.string();
  }
  return "";
}

/// Runs `python script args...` and returns its exit code (127 if it could not start).
int run_script(const std::string& python, const std::string& script, int argc, char** argv) {
  std::vector<std::string> args{python, script};
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  std::vector<char*> cargs;
  for (auto& a : args) cargs.push_back(a.data());
  cargs.push_back(nullptr);
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = ::fork();
  if (pid < 0)
    throw InputError(std::string("plot: cannot start ") + python + ": " + std::strerror(errno));
  if (pid == 0) {
    ::execvp(cargs[0], cargs.data());
    _exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return 1;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 1;
}

}  // namespace

std::vector<std::string> differing_options(
    const std::vector<std::map<std::string, std::string>>& configs) {
  // Where results go and how progress is displayed: never a difference between the runs.
  static const std::set<std::string> kFileKeys{"output",     "checkpoint", "resume", "overwrite",
                                               "log-format", "progress",   "show"};
  std::set<std::string> keys;
  for (const auto& c : configs) {
    for (const auto& [k, v] : c) keys.insert(k);
  }
  std::vector<std::string> out;
  for (const auto& k : keys) {
    if (kFileKeys.count(k)) continue;
    std::set<std::string> values;
    std::size_t present = 0;
    for (const auto& c : configs) {
      auto it = c.find(k);
      if (it == c.end()) continue;
      ++present;
      values.insert(it->second);
    }
    if (present < configs.size() || values.size() > 1) out.push_back(k);
  }
  return out;
}

int compare_command(Communicator& comm, int argc, char** argv) {
  bool help = false;
  std::vector<std::string> files;
  comm.agree_on_errors([&] {
    files = files_of(argc, argv, help);
    if (!help && files.size() < 2) {
      throw ConfigError("file",
                        "compare needs two or more result files: distopt compare A.h5 B.h5 ...");
    }
  });
  if (help) {
    if (comm.is_root()) {
      std::printf(
          "usage: distopt compare A.h5 B.h5 [C.h5 ...]\n"
          "  prints the options that differ between result files and, one column per file, the\n"
          "  final and best value of every metric (best: max for *accuracy*, min otherwise;\n"
          "  counters such as round, grad_evals, bytes_*, wall_time: final only)\n");
    }
    return kExitOk;
  }
  comm.agree_on_errors([&] {
    if (comm.is_root()) compare(files);
  });
  return kExitOk;
}

int plot_command(Communicator& comm, int argc, char** argv) {
  int rc = 0;
  comm.agree_on_errors([&] {
    if (!comm.is_root()) return;
    const std::string script = find_plot_script();
    if (script.empty()) {
      throw InputError("plot: distopt_plot.py not found beside the executable or in " +
                       std::string(DISTOPT_INSTALL_BINDIR) +
                       " (set DISTOPT_PLOT_SCRIPT to scripts/distopt_plot.py)");
    }
    const char* env = std::getenv("DISTOPT_PYTHON");
    std::string python = env && *env ? env : "/usr/bin/python3";
    std::error_code ec;
    if (!(env && *env) && !std::filesystem::exists(python, ec)) python = "python3";
    rc = run_script(python, script, argc, argv);
    if (rc == 127) {
      throw InputError("plot: cannot run " + python + " " + script +
                       " (install python3-matplotlib python3-h5py, or set DISTOPT_PYTHON)");
    }
  });
  return static_cast<int>(comm.broadcast_value(static_cast<std::int64_t>(rc)));
}

}  // namespace distopt
