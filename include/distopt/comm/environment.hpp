#pragma once
// RAII MPI environment (Boost.MPI style): initialises MPI, makes MPI errors return codes (so the
// communicator layer turns them into MpiError), and calls MPI_Abort if it is destroyed while an
// exception is escaping, or (a std::terminate handler) when an exception leaves main() uncaught,
// so that one rank's failure can never leave the others hanging.
namespace distopt {

/// The MPI environment of the process; construct exactly one, in main(), before any Communicator.
class Environment {
 public:
  /// Collective over MPI_COMM_WORLD: MPI_Init_thread (MPI_THREAD_FUNNELED) with main()'s
  /// arguments, and MPI_ERRORS_RETURN on MPI_COMM_WORLD; installs a std::terminate handler that
  /// prints "distopt: rank R: uncaught exception: <what()>" and calls MPI_Abort. Throws MpiError
  /// if initialisation fails.
  Environment(int& argc, char**& argv);
  /// MPI_Finalize (collective); if an exception is escaping, Environment::abort(1, ...) instead.
  ~Environment();
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;

  /// Ends every rank of the job with `code` after printing "distopt: rank R: <message>" on stderr.
  [[noreturn]] static void abort(int code, const char* message);
  /// Whether MPI_Init has been called (MPI_Initialized).
  static bool initialized();

 private:
  int uncaught_at_start_;
};

}  // namespace distopt
