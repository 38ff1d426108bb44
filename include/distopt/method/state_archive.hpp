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

class StateArchive {
 public:
  void put(const std::string& key, const Eigen::Ref<const Vector>& v);
  void put(const std::string& key, std::vector<double> v);
  void put_u64(const std::string& key, std::vector<std::uint64_t> v);
  void put_scalar(const std::string& key, double v) { put(key, std::vector<double>{v}); }
  void put_count(const std::string& key, std::uint64_t v) { put_u64(key, {v}); }

  bool has(const std::string& key) const;
  /// Throws FileError-like InputError naming the key if absent.
  Vector get_vector(const std::string& key) const;
  const std::vector<double>& get_doubles(const std::string& key) const;
  const std::vector<std::uint64_t>& get_u64(const std::string& key) const;
  double get_scalar(const std::string& key) const;
  std::uint64_t get_count(const std::string& key) const;

  static std::string agent_key(Index agent, const std::string& name);

  const std::map<std::string, std::vector<double>>& doubles() const { return doubles_; }
  const std::map<std::string, std::vector<std::uint64_t>>& counts() const { return counts_; }

  std::vector<std::uint8_t> serialize() const;
  static StateArchive deserialize(std::span<const std::uint8_t> bytes);
  /// Adds the other archive's keys (keys already present are kept: replicated state).
  void merge(const StateArchive& other);

  /// Collective: gathers every rank's archive on rank 0 and writes it to `path` atomically
  /// (written to path.tmp, renamed when complete).
  void save(Communicator& comm, const std::string& path) const;
  /// Every rank reads the file (read-only).
  static StateArchive load(const std::string& path);

 private:
  std::map<std::string, std::vector<double>> doubles_;
  std::map<std::string, std::vector<std::uint64_t>> counts_;
};

}  // namespace distopt
