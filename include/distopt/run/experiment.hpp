#pragma once
// Experiment assembly: config -> data -> model -> method -> Trainer -> result file. This is what
// `distopt train` runs, and what a library user calls to run a configured experiment in-process.
#include <string>
#include <vector>

#include "distopt/comm/communicator.hpp"
#include "distopt/run/config.hpp"
#include "distopt/method/trainer.hpp"

namespace distopt {

struct ExperimentOutcome {
  Summary summary;
  std::string output_path;  // result file written (empty if --output none)
  Vector model;             // final model (identical on every rank)
  MetricLog log;
};

/// Collective. Validates everything before training (errors agreed across ranks), runs, writes
/// the result file on rank 0. Extra callbacks see every evaluation.
ExperimentOutcome run_experiment(Communicator& comm, const Config& config,
                                 const std::vector<TrainerCallback*>& callbacks = {});

/// `distopt train [--config FILE] [--key value ...]`: returns the process exit code.
int train_command(Communicator& comm, const std::vector<std::string>& args);

}  // namespace distopt
