#include "distopt/run/file_guards.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <utility>

#include "distopt/core/error.hpp"
#include "distopt/core/strings.hpp"

namespace distopt {

namespace fs = std::filesystem;

bool same_file(const std::string& a, const std::string& b) {
  if (a.empty() || b.empty()) return false;
  struct stat sa {};
  struct stat sb {};
  const bool ea = ::stat(a.c_str(), &sa) == 0;
  const bool eb = ::stat(b.c_str(), &sb) == 0;
  if (ea && eb) return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
  // At most one exists: they are one file only if the paths resolve to the same name (a file
  // about to be created under a symlinked directory is caught through weakly_canonical).
  std::error_code ec1, ec2;
  const auto ca = fs::weakly_canonical(fs::absolute(a, ec1), ec1);
  const auto cb = fs::weakly_canonical(fs::absolute(b, ec2), ec2);
  if (ec1 || ec2) return fs::absolute(a).lexically_normal() == fs::absolute(b).lexically_normal();
  return ca == cb;
}

void check_distinct_paths(const std::vector<NamedPath>& inputs,
                          const std::vector<NamedPath>& outputs,
                          const std::vector<std::pair<std::string, std::string>>& allowed) {
  auto is_allowed = [&](const std::string& out, const std::string& in) {
    for (const auto& [o, i] : allowed)
      if (o == out && i == in) return true;
    return false;
  };
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const auto& out = outputs[i];
    if (out.path.empty()) continue;
    for (const auto& in : inputs) {
      if (in.path.empty() || is_allowed(out.key, in.key) || !same_file(out.path, in.path)) continue;
      throw ConfigError(out.key, out.path + " is also the input --" + in.key + " " + in.path +
                                     ": refusing to write over an input (give another --" +
                                     out.key + ")");
    }
    for (std::size_t j = 0; j < i; ++j) {
      const auto& other = outputs[j];
      if (other.path.empty() || !same_file(out.path, other.path)) continue;
      throw ConfigError(out.key, out.path + " is also --" + other.key + " " + other.path +
                                     ": two outputs cannot be one file");
    }
  }
}

std::vector<std::string> data_spec_files(const std::string& spec) {
  std::vector<std::string> candidates{spec};
  if (const auto colon = spec.find(':'); colon != std::string::npos) {
    const auto rest = spec.substr(colon + 1);
    candidates.push_back(rest.substr(0, rest.find(',')));
    for (const auto& item : split(rest, ',')) {
      if (item.rfind("test=", 0) == 0) candidates.push_back(item.substr(5));
    }
  }
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& c : candidates) {
    if (!c.empty() && fs::is_regular_file(c, ec)) files.push_back(c);
  }
  return files;
}

FileLock::FileLock(const std::string& key, const std::string& path) : lock_path_(path + ".lock") {
  // A lock file removed by its owner between our open() and flock() is a different file from
  // the one now at the path: retry until the locked file is the one the path names.
  for (int attempt = 0; attempt < 20; ++attempt) {
    const int fd = ::open(lock_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      throw ConfigError(key,
                        "cannot create the lock file " + lock_path_ + ": " + std::strerror(errno));
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      ::close(fd);
      if (err == EWOULDBLOCK) {
        throw ConfigError(key, path + " is in use by another run (" + lock_path_ +
                                   " is locked); wait for it or give another --" + key);
      }
      throw ConfigError(key, "cannot lock " + lock_path_ + ": " + std::strerror(err));
    }
    struct stat held {};
    struct stat named {};
    if (::fstat(fd, &held) == 0 && ::stat(lock_path_.c_str(), &named) == 0 &&
        held.st_dev == named.st_dev && held.st_ino == named.st_ino) {
      fd_ = fd;
      return;
    }
    ::close(fd);
  }
  throw ConfigError(key, "cannot lock " + lock_path_ + " (it keeps being replaced)");
}

FileLock::~FileLock() {
  release();
}

FileLock::FileLock(FileLock&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)), lock_path_(std::move(o.lock_path_)) {}

FileLock& FileLock::operator=(FileLock&& o) noexcept {
  if (this != &o) {
    release();
    fd_ = std::exchange(o.fd_, -1);
    lock_path_ = std::move(o.lock_path_);
  }
  return *this;
}

void FileLock::release() {
  if (fd_ < 0) return;
  // Unlinked while still locked: a run waiting on this file sees it replaced and retries.
  ::unlink(lock_path_.c_str());
  ::close(fd_);
  fd_ = -1;
}

std::string printable(const std::string& text) {
  std::string out;
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  auto escape = [&](unsigned char c) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\x%02x", c);
    out += buf;
  };
  for (std::size_t i = 0; i < n;) {
    const unsigned char c = s[i];
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7f)
        escape(c);
      else
        out += static_cast<char>(c);
      ++i;
      continue;
    }
    // A well-formed UTF-8 sequence (a path with accents) is kept as it is.
    const std::size_t len = (c & 0xE0) == 0xC0   ? 2
                            : (c & 0xF0) == 0xE0 ? 3
                            : (c & 0xF8) == 0xF0 ? 4
                                                 : 0;
    bool ok = len > 0 && i + len <= n && c >= 0xC2 && c <= 0xF4;
    for (std::size_t k = 1; ok && k < len; ++k) ok = (s[i + k] & 0xC0) == 0x80;
    if (ok) {
      out.append(text, i, len);
      i += len;
    } else {
      escape(c);
      ++i;
    }
  }
  return out;
}

}  // namespace distopt
