#pragma once
// Guards against loss of files (issue 11): a run never writes over one of its own inputs, never
// lets two of its outputs be one file, and never shares an output with another run at the same
// time. All of it is checked on rank 0 before any work; the errors are ConfigErrors naming the
// option.
#include <string>
#include <utility>
#include <vector>

namespace distopt {

/// True if `a` and `b` name the same file: the same (device, inode) when both exist (so a
/// symlink or a hard link is caught), else the same lexically normal absolute path after
/// resolving the symlinks of its existing part (so "./a.h5", "a.h5" and "dir/../a.h5" are
/// one).
bool same_file(const std::string& a, const std::string& b);

/// A file a run reads (`key` is its option, without dashes) or writes.
struct NamedPath {
  std::string key;   ///< the option naming the file, without dashes (e.g. "output")
  std::string path;  ///< the path as given
};

/// Refuses (ConfigError naming the output's option) an output equal to an input, or two outputs
/// equal to each other. Empty paths are skipped. `allowed` lists (output key, input key) pairs
/// that may be one file (--checkpoint and --resume: a resumed run continues its checkpoint).
void check_distinct_paths(const std::vector<NamedPath>& inputs,
                          const std::vector<NamedPath>& outputs,
                          const std::vector<std::pair<std::string, std::string>>& allowed = {});

/// The files a --data specification reads that exist: the spec itself ("FILE", "h5:FILE"), the
/// part after "kind:" up to the first ',' ("libsvm:FILE,test=FILE") and any "test=FILE".
std::vector<std::string> data_spec_files(const std::string& spec);

/// An exclusive advisory lock (flock) on `<path>.lock`, held while the object lives, so that a
/// second run writing the same file fails at start. The lock file is removed when the lock is
/// released; a lock file left by a killed run does not block (the kernel released its flock).
class FileLock {
 public:
  FileLock() = default;
  /// Takes the lock or throws ConfigError(key, "<path> is in use by another run ...").
  FileLock(const std::string& key, const std::string& path);
  ~FileLock();
  FileLock(FileLock&& o) noexcept;             ///< takes over o's lock (o holds none after)
  FileLock& operator=(FileLock&& o) noexcept;  ///< releases this lock, then takes over o's
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  /// Removes the lock file and releases the lock (idempotent).
  void release();

 private:
  int fd_ = -1;
  std::string lock_path_;
};

/// `text` with control bytes and invalid UTF-8 written as a backslash, x and two hex digits, so
/// that a message quoting a garbled file (binary bytes in an INI file) stays one readable line.
std::string printable(const std::string& text);

}  // namespace distopt
