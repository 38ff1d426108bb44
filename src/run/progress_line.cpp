#include "distopt/run/progress_line.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdlib>

#include "distopt/core/error.hpp"

namespace distopt {

ProgressMode progress_mode_from_string(const std::string& s) {
  if (s == "auto") return ProgressMode::kAuto;
  if (s == "never") return ProgressMode::kNever;
  if (s == "always") return ProgressMode::kAlways;
  throw ConfigError("progress", "must be one of auto|never|always (got '" + s + "')");
}

namespace {

/// True if file descriptor `fd` of the user's side is a terminal. Open MPI gives every rank a
/// pseudo-terminal as stdout and copies it to mpirun's own stdout, so isatty(1) is true even in
/// `mpirun ... | tee log`. Under Open MPI (OMPI_COMM_WORLD_SIZE set), the launcher's descriptor
/// decides: that of the parent process (mpirun; orted on another node, whose output is not a
/// terminal), read as the link /proc/<ppid>/fd/<fd>. Where /proc cannot tell, no progress line.
bool user_terminal(int fd) {
  if (::isatty(fd) != 1) return false;
  if (std::getenv("OMPI_COMM_WORLD_SIZE") == nullptr) return true;
  const std::string link =
      "/proc/" + std::to_string(static_cast<long>(::getppid())) + "/fd/" + std::to_string(fd);
  char target[256];
  const ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
  if (n <= 0) return false;
  const std::string t(target, static_cast<std::size_t>(n));
  return t.rfind("/dev/pts/", 0) == 0 || t.rfind("/dev/tty", 0) == 0;
}

}  // namespace

bool ProgressLine::enabled(ProgressMode mode, std::FILE* out) {
  switch (mode) {
    case ProgressMode::kNever:
      return false;
    case ProgressMode::kAlways:
      return true;
    case ProgressMode::kAuto:
      return user_terminal(::fileno(out));
  }
  return false;
}

ProgressLine::ProgressLine(std::FILE* out, bool active, std::int64_t total_rounds,
                           std::string metric, double min_interval)
    : out_(out),
      active_(active),
      total_(total_rounds),
      metric_(std::move(metric)),
      min_interval_(min_interval) {}

ProgressLine::~ProgressLine() {
  clear();
}

void ProgressLine::clear() {
  if (!active_ || shown_ == 0) return;
  // Spaces rather than an ANSI erase sequence: any terminal (and `script` logs) understands them.
  std::fprintf(out_, "\r%s\r", std::string(shown_, ' ').c_str());
  std::fflush(out_);
  shown_ = 0;
}

void ProgressLine::on_evaluation(const MetricRow& row) {
  if (!active_) return;
  clear();
  const auto round = static_cast<std::int64_t>(row.get("round"));
  evaluated_round_ = round;
  if (row.has(metric_)) last_value_ = row.get(metric_);
  if (ref_round_ < 0) {
    ref_round_ = round;
    ref_wall_ = row.get("wall_time");
  }
}

void ProgressLine::on_message(const std::string& /*text*/) {
  clear();
}

namespace {
std::string duration(double s) {
  char buf[32];
  const long t = std::lround(s);
  if (t < 60) {
    std::snprintf(buf, sizeof buf, "%lds", t);
  } else if (t < 3600) {
    std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, (t % 3600) / 60);
  }
  return buf;
}
}  // namespace

std::string ProgressLine::text(std::int64_t round, double wall_time) const {
  const double dt = wall_time - ref_wall_;
  if (ref_round_ < 0 || round <= ref_round_ || !(dt > 0)) return "";
  const double rate = static_cast<double>(round - ref_round_) / dt;
  char buf[160];
  int n = std::snprintf(buf, sizeof buf, "round %lld/%lld  %.3g rounds/s  ETA %s",
                        static_cast<long long>(round), static_cast<long long>(total_), rate,
                        duration(static_cast<double>(total_ - round) / rate).c_str());
  if (std::isfinite(last_value_) && n > 0 && n < static_cast<int>(sizeof buf)) {
    std::snprintf(buf + n, sizeof buf - static_cast<std::size_t>(n), "  %s %.4e", metric_.c_str(),
                  last_value_);
  }
  std::string s = buf;
  // A line longer than the terminal wraps, and '\r' then returns only to its last part.
  if (s.size() > 79) s.resize(79);
  return s;
}

void ProgressLine::on_round_end(std::int64_t round, double wall_time) {
  if (!active_) return;
  if (ref_round_ < 0) {
    ref_round_ = round;
    ref_wall_ = wall_time;
    return;
  }
  // Between evaluations only: a round that printed a row shows the row, and redrawing at most
  // every min_interval seconds keeps the terminal cheap at thousands of rounds per second.
  if (round == evaluated_round_ || round >= total_ || wall_time - last_draw_ < min_interval_)
    return;
  const std::string s = text(round, wall_time);
  if (s.empty()) return;
  // Padded to the previous length so a shorter line leaves nothing of the longer one.
  const std::size_t pad = shown_ > s.size() ? shown_ - s.size() : 0;
  std::fprintf(out_, "\r%s%s", s.c_str(), std::string(pad, ' ').c_str());
  std::fflush(out_);
  shown_ = s.size() + pad;
  last_draw_ = wall_time;
}

}  // namespace distopt
