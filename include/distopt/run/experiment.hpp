#pragma once
// Experiment assembly: config -> data -> model -> method -> Trainer -> result file. This is what
// `distopt train` runs, and what a library user calls to run a configured experiment in-process.
#include <ostream>
#include <string>
#include <vector>

#include "distopt/comm/communicator.hpp"
#include "distopt/method/trainer.hpp"
#include "distopt/run/config.hpp"

namespace distopt {

/// What run_experiment() returns (on every rank).
struct ExperimentOutcome {
  Summary summary;          ///< how the run ended (Trainer::run)
  std::string output_path;  ///< result file written (empty if --output none)
  Vector model;             ///< final model (identical on every rank)
  MetricLog log;            ///< every evaluation row
};

/// Collective. Validates everything before training (errors agreed across ranks), runs, writes
/// the result file on rank 0. Extra callbacks see every evaluation.
ExperimentOutcome run_experiment(Communicator& comm, const Config& config,
                                 const std::vector<TrainerCallback*>& callbacks = {});

/// Writes `config`'s resolved options as INI lines (`key = value`, sorted, without `config` and
/// empty values), after two comment lines: the version and git commit, and
/// `# world_size = N`. This is `distopt train --print-config` (rank 0 prints).
void print_resolved_config(std::ostream& out, const Config& config, int world_size);

/// Collective: `distopt train [--config FILE] [--key value ...]` (run_experiment on the parsed
/// Config). Returns 0 (also for --help and --print-config, which rank 0 prints); bad input
/// throws on every rank.
int train_command(Communicator& comm, const std::vector<std::string>& args);

}  // namespace distopt
