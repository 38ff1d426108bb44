#pragma once
// The subcommands that read result files: `distopt compare` and `distopt plot`.
//
//   distopt compare A.h5 B.h5 [C.h5 ...]
//     prints, for two or more result files (run/result_file.hpp), the resolved options that
//     differ between them (/config attributes; the file-handling options output, checkpoint,
//     resume, overwrite and log-format are left out) and a table with one column per file: rounds
//     done, termination, and for every metric of /metrics the final value and the best value,
//     where best is the maximum for metrics whose name contains "accuracy" and the minimum for
//     every other metric except counters (round, *_evals, *_events, *_clients, bytes*, messages,
//     virtual_time, wall_time, time_*), which have only a final value. A metric missing from a
//     file shows "-".
//   distopt plot RESULT.h5... --y METRIC [--x round|grad_evals|bytes_logical|wall_time]
//                [--out FIG.png|FIG.pdf] [--logy] [--title TEXT]
//     runs scripts/distopt_plot.py (matplotlib, h5py), found beside the executable, else in the
//     install's bin directory (DISTOPT_PLOT_SCRIPT overrides both; DISTOPT_PYTHON names the
//     interpreter, default /usr/bin/python3), with these arguments; one line per file, labelled
//     by the options that differ between the files.
// argv[0] is the subcommand's name. Rank 0 does the work and prints; errors are raised on every
// rank (CollectiveInputError), so the app reports them once.
#include <map>
#include <string>
#include <vector>

#include "distopt/comm/communicator.hpp"

namespace distopt {

/// Collective: `distopt compare` (above) on argv (argv[0] the subcommand); rank 0 prints.
/// Returns 0 (also for --help); bad input (fewer than two files, a file that is not a result
/// file) throws on every rank.
int compare_command(Communicator& comm, int argc, char** argv);

/// Collective: `distopt plot` (above); rank 0 runs the script. Returns the script's exit code
/// (2 for bad input, which the script reports as one "distopt: error:" line) on every rank;
/// throws on every rank if the script or the interpreter cannot be found.
int plot_command(Communicator& comm, int argc, char** argv);

/// The option names whose values differ between the given /config attribute maps (a key missing
/// from some maps differs), without the file-handling keys output, checkpoint, resume, overwrite
/// and log-format; in key order.
std::vector<std::string> differing_options(
    const std::vector<std::map<std::string, std::string>>& configs);

}  // namespace distopt
