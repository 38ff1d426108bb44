// distopt: distributed optimisation over MPI.
//   distopt train [--config FILE.ini] [--key value ...]   run an experiment
//   distopt data ...                                     build an HDF5 dataset
//   distopt info FILE.h5 [FILE.h5 ...]                   show what dataset or result files hold
//   distopt compare A.h5 B.h5 [...]                      options that differ, final/best metrics
//   distopt plot RESULT.h5... --y METRIC [--x ...]        plot a metric of result files
// Exit codes: 0 success, 2 bad input (one line naming the culprit), 3 diverged (loss NaN/inf;
// results still written), 1 internal error.
#include "distopt/run/cli_main.hpp"

#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "distopt/comm/communicator.hpp"
#include "distopt/comm/environment.hpp"
#include "distopt/core/error.hpp"
#include "distopt/core/version.hpp"
#include "distopt/run/data_command.hpp"
#include "distopt/run/experiment.hpp"
#include "distopt/run/file_guards.hpp"
#include "distopt/run/results_command.hpp"

namespace distopt {

namespace {

void usage(const char* program) {
  std::printf(
      "%s (distopt %s): distributed optimisation over MPI\n\n"
      "usage: mpirun -np N %s <command> [options]\n"
      "  train [--config FILE.ini] [--key value ...]  run an experiment (see: %s train --help)\n"
      "  data --from fmnist|libsvm FILE|synthetic:KIND --output FILE.h5   build a dataset\n"
      "  info FILE.h5 [FILE.h5 ...]                     show dataset or result files\n"
      "  compare A.h5 B.h5 [...]                        options that differ, final and best "
      "metrics\n"
      "  plot RESULT.h5... --y METRIC [--x AXIS] [--out FIG.png|pdf]   plot result files\n"
      "  --version                                      print the version\n",
      program, version(), program, program);
}

int dispatch(Communicator& comm, int argc, char** argv, const char* program) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    if (comm.is_root()) usage(program);
    return argc < 2 ? kExitInput : kExitOk;
  }
  const std::string cmd = argv[1];
  if (cmd == "--version") {
    if (comm.is_root()) std::printf("distopt %s (%s)\n", version(), git_commit());
    return kExitOk;
  }
  if (cmd == "train") return train_command(comm, std::vector<std::string>(argv + 2, argv + argc));
  if (cmd == "data") return data_command(comm, argc - 1, argv + 1);
  if (cmd == "info") return info_command(comm, argc - 1, argv + 1);
  if (cmd == "compare") return compare_command(comm, argc - 1, argv + 1);
  if (cmd == "plot") return plot_command(comm, argc - 1, argv + 1);
  throw CollectiveInputError("unknown command '" + cmd +
                             "' (expected train, data, info, compare or plot)");
}

}  // namespace

int cli_main(int argc, char** argv, const char* program) {
  Environment env(argc, argv);
  auto comm = Communicator::world();
  try {
    return dispatch(comm, argc, argv, program);
  } catch (const CollectiveInputError& e) {
    // Every rank has the same error: rank 0 reports it once, all exit with code 2.
    // printable(): a message quoting a garbled input (binary bytes of an INI file) stays one line.
    if (comm.is_root()) std::fprintf(stderr, "distopt: error: %s\n", printable(e.what()).c_str());
    return kExitInput;
  } catch (const InputError& e) {
    // Raised on this rank only: the others may be waiting in a collective, so end the job.
    if (comm.size() == 1) {
      std::fprintf(stderr, "distopt: error: %s\n", printable(e.what()).c_str());
      return kExitInput;
    }
    Environment::abort(kExitInput, printable(std::string("error: ") + e.what()).c_str());
  } catch (const std::exception& e) {
    Environment::abort(kExitInternal,
                       printable(std::string("internal error: ") + e.what()).c_str());
  }
}

}  // namespace distopt
