#include "distopt/comm/environment.hpp"

#include <mpi.h>

#include <cstdio>
#include <exception>
#include <string>

#include "distopt/comm/mpi_check.hpp"

namespace distopt {

namespace {
// An exception that leaves main() uncaught goes to std::terminate without unwinding the stack
// (so ~Environment never runs): this handler names it and ends the whole job instead of leaving
// the other ranks blocked in a collective.
[[noreturn]] void terminate_with_mpi_abort() {
  std::string what = "std::terminate called";
  if (const auto e = std::current_exception()) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      what = std::string("uncaught exception: ") + x.what();
    } catch (...) {
      what = "uncaught exception of a non-standard type";
    }
  }
  Environment::abort(1, what.c_str());
}
}  // namespace

Environment::Environment(int& argc, char**& argv) : uncaught_at_start_(std::uncaught_exceptions()) {
  int provided = 0;
  detail::check_mpi(MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  std::set_terminate(terminate_with_mpi_abort);
}

Environment::~Environment() {
  // Unwinding through the environment (an exception caught above the scope that holds it):
  // finalizing would hang on the ranks still waiting for this one, so abort the job.
  if (std::uncaught_exceptions() > uncaught_at_start_) {
    abort(1, "exception escaped the MPI environment");
  }
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

bool Environment::initialized() {
  int flag = 0;
  MPI_Initialized(&flag);
  return flag != 0;
}

void Environment::abort(int code, const char* message) {
  int rank = -1;
  if (initialized()) MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  std::fprintf(stderr, "distopt: rank %d: %s\n", rank, message);
  std::fflush(stderr);
  if (initialized()) MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

}  // namespace distopt
