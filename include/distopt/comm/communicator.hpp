#pragma once
// The communicator layer: the only place that calls MPI. Typed, value-returning or in-place
// collectives over contiguous buffers (Eigen vectors, std::vector, spans) of any supported element
// type (KaMPIng / Boost.MPI style); every MPI return code is checked and turned into an MpiError;
// every byte handed to MPI is counted in traffic().
//
// This header does not include <mpi.h>: MPI handles are kept in opaque storage and the templates
// dispatch to non-template functions (src/comm/communicator.cpp) with an element-type tag. Code
// that needs the raw MPI_Comm / MPI_Request includes comm/mpi_native.hpp (.cpp files only).
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "distopt/comm/traffic.hpp"
#include "distopt/core/types.hpp"

namespace distopt {

/// Element types the communicator moves and reduces (mapped onto MPI datatypes in the .cpp).
enum class ElementType : std::uint8_t {
  kUint8,
  kInt8,
  kInt32,
  kUint32,
  kInt64,
  kUint64,
  kFloat,
  kDouble
};

/// @namespace distopt::detail
/// @brief Implementation details of the communicator layer (element-type tags, opaque MPI handles,
/// MPI error checking); not part of the supported API.
namespace detail {

/// Maps a C++ element type to its ElementType tag (`value`); specialised for the MpiElement types.
template <class T>
struct element_type_of {};
template <>
struct element_type_of<std::uint8_t> : std::integral_constant<ElementType, ElementType::kUint8> {};
template <>
struct element_type_of<std::int8_t> : std::integral_constant<ElementType, ElementType::kInt8> {};
template <>
struct element_type_of<std::int32_t> : std::integral_constant<ElementType, ElementType::kInt32> {};
template <>
struct element_type_of<std::uint32_t> : std::integral_constant<ElementType, ElementType::kUint32> {
};
template <>
struct element_type_of<std::int64_t> : std::integral_constant<ElementType, ElementType::kInt64> {};
template <>
struct element_type_of<std::uint64_t> : std::integral_constant<ElementType, ElementType::kUint64> {
};
template <>
struct element_type_of<float> : std::integral_constant<ElementType, ElementType::kFloat> {};
template <>
struct element_type_of<double> : std::integral_constant<ElementType, ElementType::kDouble> {};

/// Storage for one MPI handle (MPI_Comm, MPI_Request) without <mpi.h>: every MPI implementation's
/// handles are an integer or a pointer (comm/mpi_native.hpp checks the size).
struct NativeHandle {
  alignas(8) unsigned char bytes[8] = {};  ///< the handle's bytes (memcpy'd in and out)
};

/// Reduction operators of the typed allreduce (MPI_SUM, MPI_MAX, MPI_MIN).
enum class ReduceOp : std::uint8_t { kSum, kMax, kMin };

}  // namespace detail

/// A type the communicator can send and reduce: uint8/int8/int32/uint32/int64/uint64, float,
/// double.
template <class T>
concept MpiElement = requires {
  detail::element_type_of<std::remove_cv_t<T>>::value;
};

/// The element-type tag of T.
template <MpiElement T>
inline constexpr ElementType element_type_v = detail::element_type_of<std::remove_cv_t<T>>::value;

/// Byte messages gathered from every rank: message of rank r is data[displs[r], +counts[r]).
struct GatheredBytes {
  std::vector<std::uint8_t> data;  ///< every rank's message, concatenated in rank order
  std::vector<int> counts;         ///< counts[r]: length of rank r's message in bytes
  std::vector<int> displs;         ///< displs[r]: offset of rank r's message in data
  /// The message of rank `rank`.
  std::span<const std::uint8_t> from(int rank) const {
    return {data.data() + displs[static_cast<std::size_t>(rank)],
            static_cast<std::size_t>(counts[static_cast<std::size_t>(rank)])};
  }
};

/// A nonblocking operation. Movable, not copyable; destroying a pending request waits for it,
/// so buffers are never released under MPI's feet.
class Request {
 public:
  /// A request that is not pending.
  Request() = default;
  /// Wraps a started MPI request (see comm/mpi_native.hpp: make_request).
  explicit Request(const detail::NativeHandle& h) : handle_(h), pending_(true) {}
  /// Takes over `o`'s operation; `o` is left not pending.
  Request(Request&& o) noexcept : handle_(o.handle_), pending_(o.pending_) { o.pending_ = false; }
  /// Waits for the request this one held, then takes over `o`'s.
  Request& operator=(Request&& o) noexcept;
  Request(const Request&) = delete;
  Request& operator=(const Request&) = delete;
  /// Waits for a pending operation.
  ~Request();
  /// Blocks until done.
  void wait();
  /// True once done (then the request is released).
  bool test();
  /// True while the operation may still be running.
  bool pending() const { return pending_; }
  /// The MPI_Request's storage (comm/mpi_native.hpp reads it).
  detail::NativeHandle& native_handle() { return handle_; }

 private:
  detail::NativeHandle handle_;
  bool pending_ = false;
};

/// Information on a message that has arrived (probe) or been received.
struct MessageInfo {
  int source = -1;        ///< sending rank
  int tag = -1;           ///< the message's tag
  std::size_t bytes = 0;  ///< size of the message in bytes
};

/// An MPI communicator with typed, checked and counted operations (see the file comment). Every
/// function marked Collective must be called by every rank of the communicator, in the same order.
/// Movable, not copyable.
class Communicator {
 public:
  /// MPI_COMM_WORLD (not owned).
  static Communicator world();
  /// MPI_COMM_SELF (not owned): this rank alone.
  static Communicator self();
  /// Wraps a communicator handle (comm/mpi_native.hpp: from_native); if `owned`, it is freed on
  /// destruction.
  Communicator(const detail::NativeHandle& comm, bool owned);
  /// Frees the communicator if owned (MPI_Comm_free).
  ~Communicator();
  /// Takes over `o`'s handle, ownership and traffic counters; `o` no longer frees the handle.
  Communicator(Communicator&& o) noexcept;
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

  /// Collective: a new communicator over the same ranks (MPI_Comm_dup, freed on destruction), whose
  /// messages can never match this one's. With `share_traffic`, everything it hands to MPI is
  /// counted in THIS communicator's traffic() (which must then outlive the duplicate); otherwise it
  /// counts on its own. The duplication itself is not counted.
  Communicator duplicate(bool share_traffic = true);

  /// This process's rank in the communicator, 0 <= rank() < size().
  int rank() const { return rank_; }
  /// Number of ranks of the communicator.
  int size() const { return size_; }
  /// Whether this is rank 0 (the rank that reports and writes files).
  bool is_root() const { return rank_ == 0; }
  /// The MPI_Comm's storage (comm/mpi_native.hpp: native()).
  const detail::NativeHandle& native_handle() const { return comm_; }

  /// Collective: MPI_Barrier (counted as one call of 0 bytes).
  void barrier();
  /// Collective, nonblocking: MPI_Ibarrier (counted as barrier()); the request completes once
  /// every rank has entered it.
  Request ibarrier();

  // ---- reductions (element-wise, over ranks; counted: this rank's buffer) ----
  /// Collective: in-place element-wise sum over ranks (same size on every rank).
  template <MpiElement T>
  void allreduce_sum(std::span<T> inout) {
    allreduce_raw(inout.data(), inout.size(), element_type_v<T>, detail::ReduceOp::kSum);
  }
  /// Collective: in-place element-wise maximum over ranks.
  template <MpiElement T>
  void allreduce_max(std::span<T> inout) {
    allreduce_raw(inout.data(), inout.size(), element_type_v<T>, detail::ReduceOp::kMax);
  }
  /// Collective: in-place element-wise minimum over ranks.
  template <MpiElement T>
  void allreduce_min(std::span<T> inout) {
    allreduce_raw(inout.data(), inout.size(), element_type_v<T>, detail::ReduceOp::kMin);
  }
  /// Collective: in-place element-wise sum of a std::vector over ranks.
  template <MpiElement T>
  void allreduce_sum(std::vector<T>& inout) {
    allreduce_sum(std::span<T>(inout));
  }
  /// Collective: in-place element-wise sum of an Eigen vector over ranks.
  void allreduce_sum(Vector& inout) { allreduce_sum(std::span<double>(inout.data(), inout.size())); }
  /// Collective: sum of one value over ranks, returned on every rank.
  template <MpiElement T>
  T allreduce_sum(T v) {
    allreduce_sum(std::span<T>(&v, 1));
    return v;
  }
  /// Collective: maximum of one value over ranks, returned on every rank.
  template <MpiElement T>
  T allreduce_max(T v) {
    allreduce_max(std::span<T>(&v, 1));
    return v;
  }
  /// Collective: minimum of one value over ranks, returned on every rank.
  template <MpiElement T>
  T allreduce_min(T v) {
    allreduce_min(std::span<T>(&v, 1));
    return v;
  }
  /// Collective: logical OR of `v` over ranks.
  bool any(bool v);

  // ---- broadcast (counted on the root: the buffer) ----
  /// Collective: broadcasts `buf` (same size on every rank) from `root`.
  template <MpiElement T>
  void broadcast(std::span<T> buf, int root = 0) {
    broadcast_raw(buf.data(), buf.size(), element_type_v<T>, root);
  }
  /// Collective: broadcasts a std::vector (same size on every rank) from `root`.
  template <MpiElement T>
  void broadcast(std::vector<T>& buf, int root = 0) {
    broadcast(std::span<T>(buf), root);
  }
  /// Collective: broadcasts an Eigen vector (same size on every rank) from `root`.
  void broadcast(Vector& v, int root = 0) { broadcast(std::span<double>(v.data(), v.size()), root); }
  /// Collective: broadcasts one value from `root` and returns it on every rank.
  template <MpiElement T>
  T broadcast_value(T v, int root = 0) {
    broadcast(std::span<T>(&v, 1), root);
    return v;
  }
  /// Collective: broadcasts a byte buffer whose size only the root knows (two calls: size, then
  /// data); `buf` is resized on the other ranks.
  void broadcast_bytes(std::vector<std::uint8_t>& buf, int root = 0);
  /// Collective: broadcasts a string of any length from `root` (as broadcast_bytes).
  void broadcast(std::string& s, int root = 0);

  // ---- gathers ----
  /// Collective: every rank's byte message, in rank order (counts exchanged first with an
  /// allgather; counted: this rank's bytes + one int, two calls). Reuses `out`'s buffers.
  void allgatherv(std::span<const std::uint8_t> mine, GatheredBytes& out);
  /// Collective: the same, returning a new GatheredBytes.
  GatheredBytes allgatherv(std::span<const std::uint8_t> mine);
  /// Collective: every rank's elements concatenated in rank order (counts exchanged first with an
  /// allgather; counted like the byte version: this rank's bytes + one int, two calls).
  template <MpiElement T>
  std::vector<std::remove_cv_t<T>> allgatherv(std::span<const T> mine) {
    std::vector<int> counts, displs;
    exchange_counts(mine.size(), counts, displs, "allgatherv");
    std::vector<std::remove_cv_t<T>> out(total_of(counts));
    allgatherv_raw(mine.data(), mine.size(), out.data(), counts, displs, element_type_v<T>);
    traffic_->add_mpi(mine.size_bytes() + sizeof(int), 2);
    return out;
  }
  /// Collective: every rank's elements concatenated in rank order, when every rank already knows
  /// how many elements each rank contributes (counts[r], r = 0..size−1; counts[rank()] ==
  /// mine.size()), e.g. from a Placement: one MPI call, no count exchange (counted: this rank's
  /// bytes, one call).
  template <MpiElement T>
  std::vector<std::remove_cv_t<T>> allgatherv(std::span<const T> mine,
                                              std::span<const int> counts) {
    std::vector<int> displs;
    check_counts(mine.size(), counts, displs, "allgatherv");
    std::vector<std::remove_cv_t<T>> out(total_of(counts));
    allgatherv_raw(mine.data(), mine.size(), out.data(), counts, displs, element_type_v<T>);
    traffic_->add_mpi(mine.size_bytes(), 1);
    return out;
  }
  /// Collective: every rank's bytes concatenated in rank order, on `root` only (empty elsewhere;
  /// counts gathered first: this rank's bytes + one int, two calls).
  std::vector<std::uint8_t> gatherv(std::span<const std::uint8_t> mine, int root = 0);
  /// Collective: every rank's elements concatenated in rank order, on `root` only (empty
  /// elsewhere; counts gathered first, counted like the byte version).
  template <MpiElement T>
  std::vector<std::remove_cv_t<T>> gatherv(std::span<const T> mine, int root = 0) {
    std::vector<int> counts, displs;
    gather_counts(mine.size(), root, counts, displs);
    std::vector<std::remove_cv_t<T>> out(total_of(counts));
    gatherv_raw(mine.data(), mine.size(), out.data(), counts, displs, element_type_v<T>, root);
    traffic_->add_mpi(mine.size_bytes() + sizeof(int), 2);
    return out;
  }
  /// Collective: the same with the counts known on every rank (one call; counted: this rank's
  /// bytes). Error if counts[rank()] != mine.size().
  template <MpiElement T>
  std::vector<std::remove_cv_t<T>> gatherv(std::span<const T> mine, std::span<const int> counts,
                                           int root) {
    std::vector<int> displs;
    check_counts(mine.size(), counts, displs, "gatherv");
    std::vector<std::remove_cv_t<T>> out(rank_ == root ? total_of(counts) : 0);
    gatherv_raw(mine.data(), mine.size(), out.data(), counts, displs, element_type_v<T>, root);
    traffic_->add_mpi(mine.size_bytes(), 1);
    return out;
  }
  /// Collective: one value from each rank, in rank order, on every rank (counted: one value).
  template <MpiElement T>
  std::vector<T> allgather(T v) {
    std::vector<T> out(static_cast<std::size_t>(size_));
    allgather_raw(&v, out.data(), element_type_v<T>);
    traffic_->add_mpi(sizeof v);
    return out;
  }

  // ---- point to point (counted: bytes sent; receives are not counted) ----
  /// Blocking send of `buf` to rank `dest` with `tag`.
  template <MpiElement T>
  void send(std::span<const T> buf, int dest, int tag) {
    send_raw(buf.data(), buf.size(), element_type_v<T>, dest, tag);
  }
  /// Blocking receive into `buf` (at most buf.size() elements); source/tag may be
  /// any_source/any_tag.
  template <MpiElement T>
  MessageInfo recv(std::span<T> buf, int source, int tag) {
    return recv_raw(buf.data(), buf.size(), element_type_v<T>, source, tag);
  }
  /// Receives a message of unknown length (probe, then receive).
  MessageInfo recv_bytes(std::vector<std::uint8_t>& buf, int source, int tag);
  /// Nonblocking send; `buf` must stay alive until the request completes.
  template <MpiElement T>
  Request isend(std::span<const T> buf, int dest, int tag) {
    return isend_raw(buf.data(), buf.size(), element_type_v<T>, dest, tag);
  }
  /// Nonblocking receive; `buf` must stay alive until the request completes.
  template <MpiElement T>
  Request irecv(std::span<T> buf, int source, int tag) {
    return irecv_raw(buf.data(), buf.size(), element_type_v<T>, source, tag);
  }
  /// Nonblocking probe; source/tag may be any_source/any_tag. info.bytes is the message's size.
  bool iprobe(int source, int tag, MessageInfo& info);
  // Wildcards of recv/iprobe (mapped onto MPI_ANY_SOURCE / MPI_ANY_TAG).
  static constexpr int any_source = -1;  ///< wildcard source of recv/iprobe (MPI_ANY_SOURCE)
  static constexpr int any_tag = -2;     ///< wildcard tag of recv/iprobe (MPI_ANY_TAG)
  /// Largest tag the MPI implementation accepts (at least 32767).
  int max_tag() const { return max_tag_; }

  // ---- errors agreed across ranks ----
  /// Collective: runs `f` on every rank. If it throws an InputError on any rank, every rank throws
  /// a CollectiveInputError carrying the message of the lowest failing rank, so bad input is
  /// reported once and no rank is left waiting in a collective. Other exceptions propagate
  /// unchanged (and the Environment aborts the job).
  void agree_on_errors(const std::function<void()>& f);

  /// What this communicator (and its sharing duplicates) handed to MPI, and the methods' logical
  /// traffic.
  Traffic& traffic() { return *traffic_; }
  /// Read-only view of traffic().
  const Traffic& traffic() const { return *traffic_; }

 private:
  // Non-template workers (src/comm/communicator.cpp): every MPI call and byte count lives there.
  void allreduce_raw(void* data, std::size_t n, ElementType t, detail::ReduceOp op);
  void broadcast_raw(void* data, std::size_t n, ElementType t, int root);
  void exchange_counts(std::size_t n, std::vector<int>& counts, std::vector<int>& displs,
                       const char* what);
  void gather_counts(std::size_t n, int root, std::vector<int>& counts, std::vector<int>& displs);
  void check_counts(std::size_t n, std::span<const int> counts, std::vector<int>& displs,
                    const char* what) const;
  static std::size_t total_of(std::span<const int> counts);
  void allgatherv_raw(const void* mine, std::size_t n, void* out, std::span<const int> counts,
                      const std::vector<int>& displs, ElementType t);
  void gatherv_raw(const void* mine, std::size_t n, void* out, std::span<const int> counts,
                   const std::vector<int>& displs, ElementType t, int root);
  void allgather_raw(const void* v, void* out, ElementType t);
  void send_raw(const void* data, std::size_t n, ElementType t, int dest, int tag);
  MessageInfo recv_raw(void* data, std::size_t n, ElementType t, int source, int tag);
  Request isend_raw(const void* data, std::size_t n, ElementType t, int dest, int tag);
  Request irecv_raw(void* data, std::size_t n, ElementType t, int source, int tag);

  detail::NativeHandle comm_;
  bool owned_ = false;
  int rank_ = 0;
  int size_ = 1;
  int max_tag_ = 32767;
  Traffic own_traffic_;
  Traffic* traffic_ = &own_traffic_;  // own_traffic_, or the parent's for a sharing duplicate
};

/// Waits for every request in the list.
void wait_all(std::vector<Request>& requests);

}  // namespace distopt
