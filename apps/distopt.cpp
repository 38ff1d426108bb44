// distopt: distributed optimisation over MPI. The command line lives in the library
// (run/cli_main.hpp) so that user programs with their own registered extensions can be it too.
#include "distopt/run/cli_main.hpp"

int main(int argc, char** argv) {
  return distopt::cli_main(argc, argv);
}
