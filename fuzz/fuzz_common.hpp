#pragma once
// Shared by the libFuzzer targets: the input bytes go to a temporary file (the readers take a
// path, as users give them one), and the expected outcomes of bad input are told apart from
// findings.
//
// Expected: the project's typed errors (distopt::Error and below: InputError, FileError,
// ConfigError), which the CLI reports as one line with exit code 2.
// Findings: everything else. An exception other than distopt::Error escapes the target and
// libFuzzer reports it as a crash (uncaught exception -> std::terminate -> abort); sanitizer
// reports abort too. std::bad_alloc / std::length_error (a size taken from the input without a
// bound) are findings as well: scripts/fuzz.sh decides which findings are known, not the target.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "distopt/core/error.hpp"

namespace distopt_fuzz {

/// The --max-memory the readers are run with: well below libFuzzer's -malloc_limit_mb=1024 of
/// scripts/fuzz.sh, so a size the reader lets through past its own budget is an out-of-memory
/// finding, and a size it refuses is the expected FileError.
inline constexpr std::uint64_t kMaxMemory = std::uint64_t{256} << 20;

/// A temporary file of this process (pid in the name: fuzzers may run in parallel), rewritten
/// for every input.
inline const std::string& temp_path(const char* suffix) {
  static const std::string path = [&] {
    const char* dir = std::getenv("TMPDIR");
    return std::string(dir && *dir ? dir : "/tmp") + "/distopt_fuzz_" + std::to_string(getpid()) +
           suffix;
  }();
  return path;
}

/// Writes the input to temp_path(suffix) and returns the path.
inline const std::string& write_input(const uint8_t* data, size_t size, const char* suffix) {
  const std::string& path = temp_path(suffix);
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();  // the machine, not the reader: stop loudly
  if (size > 0 && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
  return path;
}

/// Runs `f` on one input. The project's errors are the expected outcome of bad input; anything
/// else (std::bad_alloc, std::length_error, any other exception) escapes to libFuzzer, which
/// reports it as a crash with the input saved.
template <class F>
int run_one(F&& f) {
  try {
    f();
  } catch (const distopt::Error&) {
  }
  return 0;
}

}  // namespace distopt_fuzz
