#pragma once
// The raw MPI handles behind Communicator and Request, for the .cpp files of the communicator layer
// (and tests/benchmarks that compare against raw MPI). Nothing else should include this header:
// it is the only one that includes <mpi.h>.
#include <mpi.h>

#include <cstring>

#include "distopt/comm/communicator.hpp"

namespace distopt {

static_assert(sizeof(MPI_Comm) <= sizeof(detail::NativeHandle),
              "MPI_Comm does not fit NativeHandle");
static_assert(sizeof(MPI_Request) <= sizeof(detail::NativeHandle),
              "MPI_Request does not fit NativeHandle");

/// The MPI_Comm of a communicator (still owned by it).
inline MPI_Comm native(const Communicator& c) {
  MPI_Comm m;
  std::memcpy(&m, c.native_handle().bytes, sizeof m);
  return m;
}

/// Wraps an MPI_Comm; if `owned`, the Communicator frees it on destruction.
inline Communicator from_native(MPI_Comm comm, bool owned = false) {
  detail::NativeHandle h;
  std::memcpy(h.bytes, &comm, sizeof comm);
  return Communicator(h, owned);
}

/// A pending Request over a started MPI request.
inline Request make_request(MPI_Request r) {
  detail::NativeHandle h;
  std::memcpy(h.bytes, &r, sizeof r);
  return Request(h);
}

/// The MPI_Request stored in `r` (meaningful while r.pending()).
inline MPI_Request native(Request& r) {
  MPI_Request m;
  std::memcpy(&m, r.native_handle().bytes, sizeof m);
  return m;
}

}  // namespace distopt
