#pragma once
// The whole `distopt` command line as a function, so that a user program can register its own
// objectives, compressors or methods and then be the CLI:
//
//   int main(int argc, char** argv) {
//     distopt::objective_registry().add({"my-model", "", "my model", make_my_model});
//     return distopt::cli_main(argc, argv);   // my_distopt train --problem my-model ...
//   }
//
// It initialises MPI (Environment), runs `train`, `data`, `info`, `compare` or `plot`, reports bad
// input once ("distopt: error: ...", exit code 2) and ends the job with MPI_Abort on any other
// escape.
namespace distopt {

/// Runs the distopt command line on argv; returns the process exit code (0, 2 bad input).
/// `program` names the binary in usage and error lines (default "distopt").
int cli_main(int argc, char** argv, const char* program = "distopt");

}  // namespace distopt
