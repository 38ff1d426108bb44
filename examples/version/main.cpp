// Prints the version of the distopt libraries and headers, the git commit and the rank count.
// The smallest program built against an installed distopt (find_package(distopt)) or an
// add_subdirectory() copy; `mpirun -np 2 version` prints (rank 0 only):
//   distopt 0.2.0 (<commit>)
//   headers 0.2.0
//   ranks 2
// and exits with 1 if the headers and the libraries disagree on the version.
#include <cstdio>
#include <cstring>

#include "distopt/comm/communicator.hpp"
#include "distopt/comm/environment.hpp"
#include "distopt/core/version.hpp"

int main(int argc, char** argv) {
  distopt::Environment env(argc, argv);
  auto comm = distopt::Communicator::world();
  if (comm.is_root()) {
    std::printf("distopt %s (%s)\n", distopt::version(), distopt::git_commit());
    std::printf("headers %s\n", distopt::version_string());
    std::printf("ranks %d\n", comm.size());
  }
  if (std::strcmp(distopt::version(), distopt::version_string()) != 0) {
    if (comm.is_root()) std::fprintf(stderr, "version: headers and libraries differ\n");
    return 1;
  }
  return 0;
}
