#pragma once
// The result file of a run (DESIGN.md "The command line and the files"): /config (attributes: every
// resolved option, version, git commit, world size, seed), /metrics/<name> (one entry per
// evaluation point), /model/x and any method-specific /model/<name>, /summary (attributes).
// Written by rank 0 under a temporary name and renamed when complete.
#include <map>
#include <string>

#include "distopt/io/metrics.hpp"
#include "distopt/method/trainer.hpp"

namespace distopt {

/// What a result file holds; every pointer must be set except extra_models.
struct ResultContent {
  /// Written as /config attributes: every resolved option (Config::values() for CLI runs; a
  /// library program records what it ran with).
  const std::map<std::string, std::string>* options = nullptr;
  int world_size = 1;              ///< ranks of the run, recorded in /config
  const MetricLog* log = nullptr;  ///< written as /metrics/\<name\>
  const Vector* model = nullptr;   ///< written as /model/x
  /// Written as /model/\<name\> (Algorithm::final_outputs); may be null.
  const std::map<std::string, RowMatrix>* extra_models = nullptr;
  const Summary* summary = nullptr;  ///< written as /summary attributes
};

/// Writes the file on the calling process (call it on rank 0), atomically: a temporary name
/// renamed when complete. FileError if it cannot be written.
void write_result_file(const std::string& path, const ResultContent& content);

}  // namespace distopt
