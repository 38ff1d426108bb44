// An exception thrown on one rank must end the whole job, printing the rank and a message, while
// the other ranks wait in a collective. Two ways an exception gets out (argv[1]):
//   unwind    the exception is caught in main() outside the Environment's scope, so the stack
//             unwinds through ~Environment (the RAII guard), which must call MPI_Abort instead
//             of MPI_Finalize (that would hang on the waiting rank);
//   uncaught  the exception leaves main(): no unwinding, std::terminate, the Environment's
//             terminate handler must name the exception and call MPI_Abort.
// Registered at 2 ranks; abort_guard.sh checks the messages and the timeout that nothing hangs.
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "distopt/comm/communicator.hpp"
#include "distopt/comm/environment.hpp"

namespace {
void work_that_fails_on_the_last_rank() {
  auto comm = distopt::Communicator::world();
  if (comm.rank() == comm.size() - 1) throw std::runtime_error("boom from the last rank");
  comm.barrier();  // the other ranks would wait here forever without the guard
}
}  // namespace

int main(int argc, char** argv) {
  const bool unwind = argc > 1 && std::strcmp(argv[1], "unwind") == 0;
  if (!unwind) {
    distopt::Environment env(argc, argv);
    work_that_fails_on_the_last_rank();  // the exception escapes main() uncaught
    return 0;
  }
  try {
    distopt::Environment env(argc, argv);
    work_that_fails_on_the_last_rank();
  } catch (const std::exception& e) {
    // Reached only if ~Environment let the exception through instead of aborting the job.
    std::fprintf(stderr, "abort_guard: the guard did not abort (caught: %s)\n", e.what());
    return 0;
  }
  return 0;
}
