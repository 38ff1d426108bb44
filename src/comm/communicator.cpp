#include "distopt/comm/communicator.hpp"

#include <cstring>
#include <limits>

#include "distopt/comm/mpi_check.hpp"
#include "distopt/comm/mpi_native.hpp"
#include "distopt/core/error.hpp"

namespace distopt {

using detail::check_mpi;

namespace {
int to_int_count(std::size_t n, const char* what) {
  if (n > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    throw Error(std::string(what) + ": message of " + std::to_string(n) +
                " elements exceeds MPI's int count");
  }
  return static_cast<int>(n);
}

/// The MPI datatype of an element type. Bytes move as MPI_BYTE (as they always have); reductions
/// need the typed MPI_UINT8_T.
MPI_Datatype mpi_type(ElementType t, bool reduction = false) {
  switch (t) {
    case ElementType::kUint8:
      return reduction ? MPI_UINT8_T : MPI_BYTE;
    case ElementType::kInt8:
      return MPI_INT8_T;
    case ElementType::kInt32:
      return MPI_INT32_T;
    case ElementType::kUint32:
      return MPI_UINT32_T;
    case ElementType::kInt64:
      return MPI_INT64_T;
    case ElementType::kUint64:
      return MPI_UINT64_T;
    case ElementType::kFloat:
      return MPI_FLOAT;
    case ElementType::kDouble:
      return MPI_DOUBLE;
  }
  throw Error("communicator: unknown element type");
}

std::size_t size_of(ElementType t) {
  switch (t) {
    case ElementType::kUint8:
    case ElementType::kInt8:
      return 1;
    case ElementType::kInt32:
    case ElementType::kUint32:
    case ElementType::kFloat:
      return 4;
    case ElementType::kInt64:
    case ElementType::kUint64:
    case ElementType::kDouble:
      return 8;
  }
  throw Error("communicator: unknown element type");
}

MPI_Op mpi_op(detail::ReduceOp op) {
  switch (op) {
    case detail::ReduceOp::kSum:
      return MPI_SUM;
    case detail::ReduceOp::kMax:
      return MPI_MAX;
    case detail::ReduceOp::kMin:
      return MPI_MIN;
  }
  throw Error("communicator: unknown reduction");
}

int mpi_source(int source) {
  return source == Communicator::any_source ? MPI_ANY_SOURCE : source;
}
int mpi_tag(int tag) {
  return tag == Communicator::any_tag ? MPI_ANY_TAG : tag;
}

MessageInfo info_from(const MPI_Status& st, MPI_Datatype type) {
  int count = 0;
  detail::check_mpi(MPI_Get_count(&st, type, &count), "MPI_Get_count");
  int size = 1;
  detail::check_mpi(MPI_Type_size(type, &size), "MPI_Type_size");
  return {st.MPI_SOURCE, st.MPI_TAG,
          static_cast<std::size_t>(count) * static_cast<std::size_t>(size)};
}
}  // namespace

// ---------------- Request ----------------

Request& Request::operator=(Request&& o) noexcept {
  if (this != &o) {
    if (pending_) {
      MPI_Request r = native(*this);
      MPI_Wait(&r, MPI_STATUS_IGNORE);
    }
    handle_ = o.handle_;
    pending_ = o.pending_;
    o.pending_ = false;
  }
  return *this;
}

Request::~Request() {
  if (pending_) {
    MPI_Request r = native(*this);
    MPI_Wait(&r, MPI_STATUS_IGNORE);
  }
}

void Request::wait() {
  if (!pending_) return;
  MPI_Request r = native(*this);
  check_mpi(MPI_Wait(&r, MPI_STATUS_IGNORE), "MPI_Wait");
  pending_ = false;
}

bool Request::test() {
  if (!pending_) return true;
  MPI_Request r = native(*this);
  int flag = 0;
  const int rc = MPI_Test(&r, &flag, MPI_STATUS_IGNORE);
  std::memcpy(handle_.bytes, &r, sizeof r);  // MPI may update the handle
  check_mpi(rc, "MPI_Test");
  if (flag) pending_ = false;
  return flag != 0;
}

void wait_all(std::vector<Request>& requests) {
  for (auto& r : requests) r.wait();
}

// ---------------- Communicator ----------------

Communicator Communicator::world() {
  return from_native(MPI_COMM_WORLD, false);
}
Communicator Communicator::self() {
  return from_native(MPI_COMM_SELF, false);
}

Communicator::Communicator(const detail::NativeHandle& comm, bool owned)
    : comm_(comm), owned_(owned) {
  const MPI_Comm c = native(*this);
  check_mpi(MPI_Comm_rank(c, &rank_), "MPI_Comm_rank");
  check_mpi(MPI_Comm_size(c, &size_), "MPI_Comm_size");
  void* attr = nullptr;
  int flag = 0;
  check_mpi(MPI_Comm_get_attr(c, MPI_TAG_UB, &attr, &flag), "MPI_Comm_get_attr");
  if (flag && attr) max_tag_ = *static_cast<int*>(attr);
}

Communicator::Communicator(Communicator&& o) noexcept
    : comm_(o.comm_),
      owned_(o.owned_),
      rank_(o.rank_),
      size_(o.size_),
      max_tag_(o.max_tag_),
      own_traffic_(std::move(o.own_traffic_)),
      traffic_(o.traffic_ == &o.own_traffic_ ? &own_traffic_ : o.traffic_) {
  o.owned_ = false;
  o.traffic_ = &o.own_traffic_;
}

Communicator::~Communicator() {
  if (owned_) {
    MPI_Comm c = native(*this);
    if (c != MPI_COMM_NULL) MPI_Comm_free(&c);
  }
}

Communicator Communicator::duplicate(bool share_traffic) {
  MPI_Comm dup = MPI_COMM_NULL;
  check_mpi(MPI_Comm_dup(native(*this), &dup), "MPI_Comm_dup");
  Communicator c = from_native(dup, true);
  if (share_traffic) c.traffic_ = traffic_;
  return c;
}

void Communicator::barrier() {
  check_mpi(MPI_Barrier(native(*this)), "MPI_Barrier");
  traffic_->add_mpi(0);
}

Request Communicator::ibarrier() {
  MPI_Request r;
  check_mpi(MPI_Ibarrier(native(*this), &r), "MPI_Ibarrier");
  traffic_->add_mpi(0);
  return make_request(r);
}

void Communicator::allreduce_raw(void* data, std::size_t n, ElementType t, detail::ReduceOp op) {
  check_mpi(MPI_Allreduce(MPI_IN_PLACE, data, to_int_count(n, "allreduce"), mpi_type(t, true),
                          mpi_op(op), native(*this)),
            "MPI_Allreduce");
  traffic_->add_mpi(n * size_of(t));
}

bool Communicator::any(bool v) {
  int x = v ? 1 : 0;
  check_mpi(MPI_Allreduce(MPI_IN_PLACE, &x, 1, MPI_INT, MPI_LOR, native(*this)), "MPI_Allreduce");
  traffic_->add_mpi(sizeof x);
  return x != 0;
}

void Communicator::broadcast_raw(void* data, std::size_t n, ElementType t, int root) {
  check_mpi(MPI_Bcast(data, to_int_count(n, "broadcast"), mpi_type(t), root, native(*this)),
            "MPI_Bcast");
  if (rank_ == root) traffic_->add_mpi(n * size_of(t));
}

void Communicator::broadcast_bytes(std::vector<std::uint8_t>& buf, int root) {
  std::uint64_t n = buf.size();
  broadcast(std::span<std::uint64_t>(&n, 1), root);
  buf.resize(n);
  broadcast(std::span<std::uint8_t>(buf), root);
}

void Communicator::broadcast(std::string& s, int root) {
  std::vector<std::uint8_t> b(s.begin(), s.end());
  broadcast_bytes(b, root);
  s.assign(b.begin(), b.end());
}

void Communicator::exchange_counts(std::size_t n, std::vector<int>& counts,
                                   std::vector<int>& displs, const char* what) {
  const int mine = to_int_count(n, what);
  counts.resize(static_cast<std::size_t>(size_));
  check_mpi(MPI_Allgather(&mine, 1, MPI_INT, counts.data(), 1, MPI_INT, native(*this)),
            "MPI_Allgather");
  check_counts(n, counts, displs, what);
}

void Communicator::gather_counts(std::size_t n, int root, std::vector<int>& counts,
                                 std::vector<int>& displs) {
  const int mine = to_int_count(n, "gatherv");
  counts.assign(rank_ == root ? static_cast<std::size_t>(size_) : 0, 0);
  check_mpi(MPI_Gather(&mine, 1, MPI_INT, counts.data(), 1, MPI_INT, root, native(*this)),
            "MPI_Gather");
  displs.resize(counts.size());
  std::size_t total = 0;
  for (std::size_t r = 0; r < counts.size(); ++r) {
    displs[r] = to_int_count(total, "gatherv");
    total += static_cast<std::size_t>(counts[r]);
  }
}

void Communicator::check_counts(std::size_t n, std::span<const int> counts,
                                std::vector<int>& displs, const char* what) const {
  if (counts.size() != static_cast<std::size_t>(size_)) {
    throw Error(std::string(what) + ": " + std::to_string(counts.size()) + " counts for " +
                std::to_string(size_) + " ranks");
  }
  if (counts[static_cast<std::size_t>(rank_)] != to_int_count(n, what)) {
    throw Error(std::string(what) + ": rank " + std::to_string(rank_) + " sends " +
                std::to_string(n) + " elements but its count says " +
                std::to_string(counts[static_cast<std::size_t>(rank_)]));
  }
  displs.resize(counts.size());
  std::size_t total = 0;
  for (std::size_t r = 0; r < counts.size(); ++r) {
    if (counts[r] < 0) throw Error(std::string(what) + ": negative count");
    displs[r] = to_int_count(total, what);
    total += static_cast<std::size_t>(counts[r]);
  }
  to_int_count(total, what);
}

std::size_t Communicator::total_of(std::span<const int> counts) {
  std::size_t total = 0;
  for (int c : counts) total += static_cast<std::size_t>(c);
  return total;
}

void Communicator::allgatherv_raw(const void* mine, std::size_t n, void* out,
                                  std::span<const int> counts, const std::vector<int>& displs,
                                  ElementType t) {
  check_mpi(MPI_Allgatherv(mine, to_int_count(n, "allgatherv"), mpi_type(t), out, counts.data(),
                           displs.data(), mpi_type(t), native(*this)),
            "MPI_Allgatherv");
}

void Communicator::gatherv_raw(const void* mine, std::size_t n, void* out,
                               std::span<const int> counts, const std::vector<int>& displs,
                               ElementType t, int root) {
  check_mpi(MPI_Gatherv(mine, to_int_count(n, "gatherv"), mpi_type(t), out, counts.data(),
                        displs.data(), mpi_type(t), root, native(*this)),
            "MPI_Gatherv");
}

void Communicator::allgather_raw(const void* v, void* out, ElementType t) {
  check_mpi(MPI_Allgather(v, 1, mpi_type(t), out, 1, mpi_type(t), native(*this)), "MPI_Allgather");
}

void Communicator::allgatherv(std::span<const std::uint8_t> mine, GatheredBytes& out) {
  exchange_counts(mine.size(), out.counts, out.displs, "allgatherv");
  out.data.resize(total_of(out.counts));
  allgatherv_raw(mine.data(), mine.size(), out.data.data(), out.counts, out.displs,
                 ElementType::kUint8);
  traffic_->add_mpi(mine.size() + sizeof(int), 2);
}

GatheredBytes Communicator::allgatherv(std::span<const std::uint8_t> mine) {
  GatheredBytes out;
  allgatherv(mine, out);
  return out;
}

std::vector<std::uint8_t> Communicator::gatherv(std::span<const std::uint8_t> mine, int root) {
  std::vector<int> counts, displs;
  gather_counts(mine.size(), root, counts, displs);
  std::vector<std::uint8_t> out(total_of(counts));
  gatherv_raw(mine.data(), mine.size(), out.data(), counts, displs, ElementType::kUint8, root);
  traffic_->add_mpi(mine.size() + sizeof(int), 2);
  return out;
}

void Communicator::send_raw(const void* data, std::size_t n, ElementType t, int dest, int tag) {
  check_mpi(MPI_Send(data, to_int_count(n, "send"), mpi_type(t), dest, tag, native(*this)),
            "MPI_Send");
  traffic_->add_mpi(n * size_of(t));
}

MessageInfo Communicator::recv_raw(void* data, std::size_t n, ElementType t, int source, int tag) {
  MPI_Status st;
  check_mpi(MPI_Recv(data, to_int_count(n, "recv"), mpi_type(t), mpi_source(source), mpi_tag(tag),
                     native(*this), &st),
            "MPI_Recv");
  return info_from(st, mpi_type(t));
}

MessageInfo Communicator::recv_bytes(std::vector<std::uint8_t>& buf, int source, int tag) {
  MPI_Status st;
  check_mpi(MPI_Probe(mpi_source(source), mpi_tag(tag), native(*this), &st), "MPI_Probe");
  int count = 0;
  check_mpi(MPI_Get_count(&st, MPI_BYTE, &count), "MPI_Get_count");
  buf.resize(static_cast<std::size_t>(count));
  return recv(std::span<std::uint8_t>(buf), st.MPI_SOURCE, st.MPI_TAG);
}

Request Communicator::isend_raw(const void* data, std::size_t n, ElementType t, int dest, int tag) {
  MPI_Request r;
  check_mpi(MPI_Isend(data, to_int_count(n, "isend"), mpi_type(t), dest, tag, native(*this), &r),
            "MPI_Isend");
  traffic_->add_mpi(n * size_of(t));
  return make_request(r);
}

Request Communicator::irecv_raw(void* data, std::size_t n, ElementType t, int source, int tag) {
  MPI_Request r;
  check_mpi(MPI_Irecv(data, to_int_count(n, "irecv"), mpi_type(t), mpi_source(source), mpi_tag(tag),
                      native(*this), &r),
            "MPI_Irecv");
  return make_request(r);
}

bool Communicator::iprobe(int source, int tag, MessageInfo& info) {
  int flag = 0;
  MPI_Status st;
  check_mpi(MPI_Iprobe(mpi_source(source), mpi_tag(tag), native(*this), &flag, &st), "MPI_Iprobe");
  if (flag) info = info_from(st, MPI_BYTE);
  return flag != 0;
}

void Communicator::agree_on_errors(const std::function<void()>& f) {
  std::string message;
  bool failed = false;
  try {
    f();
  } catch (const InputError& e) {
    failed = true;
    message = e.what();
  }
  // Lowest failing rank speaks for all.
  std::int64_t who = failed ? rank_ : size_;
  std::int64_t lowest = 0;
  check_mpi(MPI_Allreduce(&who, &lowest, 1, MPI_INT64_T, MPI_MIN, native(*this)), "MPI_Allreduce");
  if (lowest == size_) return;
  broadcast(message, static_cast<int>(lowest));
  throw CollectiveInputError(message);
}

}  // namespace distopt
