#pragma once
// Named state for checkpoints. Each rank puts the state it owns: replicated server state under
// plain keys ("server/x"), agent state under "agent/<id>/<name>". Archives are merged on rank 0
// and written as one HDF5 file (one dataset per key), so a run can be resumed exactly.
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "distopt/core/types.hpp"

namespace distopt {

class Communicator;

/// Named checkpoint state: float64 vectors and uint64 counts by key (see above).
class StateArchive {
 public:
  /// Stores a copy of v under `key` (replacing any previous value).
  void put(const std::string& key, const Eigen::Ref<const Vector>& v);
  /// Stores v under `key` (replacing any previous value).
  void put(const std::string& key, std::vector<double> v);
  /// Stores counts under `key` (written as int64 in the file).
  void put_u64(const std::string& key, std::vector<std::uint64_t> v);
  /// Stores a single value (a vector of length 1).
  void put_scalar(const std::string& key, double v) { put(key, std::vector<double>{v}); }
  /// Stores a single count (a count vector of length 1).
  void put_count(const std::string& key, std::uint64_t v) { put_u64(key, {v}); }

  /// True if `key` holds values or counts.
  bool has(const std::string& key) const;
  /// The values under `key` as a Vector; InputError("checkpoint: missing state ...") if absent.
  Vector get_vector(const std::string& key) const;
  /// The values under `key`; InputError naming the key if absent.
  const std::vector<double>& get_doubles(const std::string& key) const;
  /// The counts under `key`; InputError naming the key if absent.
  const std::vector<std::uint64_t>& get_u64(const std::string& key) const;
  /// The single value under `key`; InputError if absent or not of length 1.
  double get_scalar(const std::string& key) const;
  /// The single count under `key`; InputError if absent or not of length 1.
  std::uint64_t get_count(const std::string& key) const;

  /// `agent/<agent>/<name>`: the key of an agent's state.
  static std::string agent_key(Index agent, const std::string& name);

  /// Every value entry by key.
  const std::map<std::string, std::vector<double>>& doubles() const { return doubles_; }
  /// Every count entry by key.
  const std::map<std::string, std::vector<std::uint64_t>>& counts() const { return counts_; }

  /// The archive as bytes (host byte order), for gathering on rank 0.
  std::vector<std::uint8_t> serialize() const;
  /// The archive serialize() wrote; Error if the bytes are truncated.
  static StateArchive deserialize(std::span<const std::uint8_t> bytes);
  /// Adds the other archive's keys (keys already present are kept: replicated state).
  void merge(const StateArchive& other);

  /// Collective: gathers every rank's archive on rank 0 and writes it to `path` atomically
  /// (written to path.tmp, renamed when complete) as /state/\<key\> datasets. Write errors are
  /// agreed across ranks.
  void save(Communicator& comm, const std::string& path) const;
  /// Reads a checkpoint file (every rank may call it; read-only). FileError if the file is not a
  /// distopt checkpoint.
  static StateArchive load(const std::string& path);

 private:
  std::map<std::string, std::vector<double>> doubles_;
  std::map<std::string, std::vector<std::uint64_t>> counts_;
};

}  // namespace distopt
