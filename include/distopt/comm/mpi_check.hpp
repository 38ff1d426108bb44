#pragma once
// Internal: turn an MPI return code into an MpiError carrying MPI_Error_string's text.
#include "distopt/core/error.hpp"

namespace distopt::detail {

/// Throws MpiError(function, code, MPI_Error_string(code)).
[[noreturn]] void throw_mpi_error(int code, const char* function);

/// Returns if `code` is MPI_SUCCESS; otherwise throws the MpiError of throw_mpi_error().
inline void check_mpi(int code, const char* function) {
  if (code != 0 /* MPI_SUCCESS */) throw_mpi_error(code, function);
}

}  // namespace distopt::detail
