#pragma once
// Loading the data of a run: every method calls load_data once.
//
//   1. open the source (source.hpp); if it has no test set, hold out test_fraction of the
//      training rows (a seeded random subset; 0 keeps every row for training and leaves the test
//      set empty);
//   2. partition the remaining training rows over the N agents (partition.hpp) — identically on
//      every rank, from the global labels when the partitioner needs them;
//   3. read only this rank's rows: its agents' training rows, agent by agent (so each local
//      agent's shard is one contiguous DataBlock), and a contiguous 1/P slice of the test rows
//      (test metrics are evaluated in parallel and summed).
// The rows an agent gets depend on (data, partition, seed, N) only, never on the rank count.
#include <cstdint>
#include <string>
#include <vector>

#include "distopt/comm/communicator.hpp"
#include "distopt/comm/placement.hpp"
#include "distopt/data/dataset.hpp"
#include "distopt/data/local_data.hpp"

namespace distopt {

/// What data a run trains on and how they are split (the command line maps --data,
/// --partition, --seed and --test-fraction onto it in run/data_config.cpp; C++ users fill it
/// directly).
struct DataSpec {
  /// --data: a source spec (source.hpp), looked up in source_registry(); required.
  std::string data;
  /// --partition: a partitioner spec (partition.hpp), looked up in partition_registry().
  std::string partition = "iid";
  /// --seed: seed of the partition, of the test holdout and of synthetic data.
  std::uint64_t seed = 0;
  /// --test-fraction: share of the rows held out as test set when the data bring none; in
  /// [0, 1) (0 keeps every row for training and leaves the test set empty).
  double test_fraction = 0.2;
  /// --max-memory: bound of the sizes read from files and of the rows a rank reads, in bytes
  /// (memory_budget.hpp); 0 ("auto"): 3/4 of the machine's memory.
  std::uint64_t max_memory = 0;
  /// --precision, resolved (model/precision.hpp): the precision of the dense rows held in
  /// memory. CSR data stay float64 at either.
  Precision precision = Precision::kFloat64;

  /// Checks what can be checked without opening the data: test_fraction in [0, 1)
  /// (ConfigError "test-fraction"), data non-empty (ConfigError "data") and the partition's kind
  /// registered (ConfigError "partition"). Its parameters are checked when the data are split.
  void validate() const;
};

// LocalData (what one rank holds after loading) is declared in local_data.hpp.

/// Loads this rank's data; bad input on any rank throws the same InputError on every rank
/// (Communicator::agree_on_errors). Does no other communication.
LocalData load_data(const DataSpec& spec, const Placement& placement, Communicator& comm);

/// The same without a communicator (errors are thrown on the calling process only): for tools
/// and tests that load the agents of a placement in one process.
LocalData load_local(const DataSpec& spec, const Placement& placement);

}  // namespace distopt
