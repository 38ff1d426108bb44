#pragma once
// --max-memory: the bound on what sizes read from files (LIBSVM feature indices, IDX dimensions,
// HDF5 dataset shapes) may make one process allocate. A size is checked against overflow (before
// it is multiplied) and against the budget before the allocation, so that an absurd size in a
// file is one "distopt: error:" line naming the file and the value (exit 2) instead of
// std::bad_alloc and MPI_Abort.
//
// The budget is per process and is a sanity bound, not an accounting of every byte: it is
// compared with the largest single allocation a size implies (the model vector, the rows a rank
// reads, the nonzeros of a LIBSVM file). Default ("auto"): 3/4 of MemTotal of /proc/meminfo, or
// kFallbackMaxMemory where that cannot be read.
#include <cstdint>
#include <optional>
#include <string>

namespace distopt {

/// The budget where /proc/meminfo cannot be read: 4 GiB.
inline constexpr std::uint64_t kFallbackMaxMemory = std::uint64_t{4} << 30;

/// The default budget: 3/4 of MemTotal, or kFallbackMaxMemory (read once).
std::uint64_t default_max_memory();

/// The budget in effect for a setting: `max_memory`, or default_max_memory() for 0 ("auto").
std::uint64_t effective_max_memory(std::uint64_t max_memory);

/// Parses a --max-memory value: "auto" (0, the default) or a positive number of bytes with an
/// optional suffix K, M, G or T (powers of 1024; "KB", "KiB" and lower case are accepted too),
/// e.g. "512M", "1.5G". ConfigError(key, ...) otherwise.
std::uint64_t parse_memory_size(const std::string& key, const std::string& text);

/// Bytes for messages, with binary units and three significant digits: "745 GiB", "19.2 GiB".
std::string format_bytes(std::uint64_t bytes);

/// a * b, or nullopt when the product does not fit in 64 bits.
std::optional<std::uint64_t> checked_mul(std::uint64_t a, std::uint64_t b);

/// "<what> needs <bytes>, more than --max-memory <budget>" (or "needs more than 2^64 bytes")
/// when count * bytes_each overflows or exceeds the budget in effect; nullopt when it fits.
/// Callers wrap the text in the error that names their file and line.
std::optional<std::string> memory_excess(const std::string& what, std::uint64_t count,
                                         std::uint64_t bytes_each, std::uint64_t max_memory);

/// Throws FileError(path, memory_excess(...)) when the allocation does not fit.
void check_memory(const std::string& path, const std::string& what, std::uint64_t count,
                  std::uint64_t bytes_each, std::uint64_t max_memory);

}  // namespace distopt
