#pragma once
// Point-to-point exchanges between agents that are neighbours in a graph (gossip methods), on a
// communicator of their own, so that these messages can never match any other traffic.
//
// Messages are addressed by (peer rank, tag). Two kinds of tags:
//   * edge tags, one per edge of the graph (edge_tag(e) = kEdgeTagBase + e mod kEdgeTagSpan): an
//     edge's messages between two ranks travel in order (MPI's non-overtaking rule per source and
//     tag) and do not mix with other edges' (up to kEdgeTagSpan edges);
//   * kind tags (kind_tag(k), 0 <= k < kEdgeTagBase): named message kinds (a request, a reply).
// Every tag is checked against the implementation's max_tag.
//
// Accounting. The channel counts both views of the traffic (comm/traffic.hpp) into the PARENT
// communicator's Traffic object, so whoever reads parent.traffic() (the Trainer) sees them:
//   * physical: every element handed to MPI, as Communicator counts it (bytes sent);
//   * logical: a message with a `from` agent counts (size − header) elements as one peer message
//     of that agent (Traffic::add_peer); the header (event ids, times) is protocol, not payload.
//     Exchanges between two agents on the same rank, which never reach MPI, are counted with
//     count_in_memory().
#include <cstdint>
#include <span>

#include "distopt/comm/communicator.hpp"

namespace distopt {

/// How a peer message is counted in the logical traffic.
struct PeerMessage {
  /// The local agent that sends it (its bytes_peer / messages_peer grow); kNoAgent: not counted
  /// (e.g. a reply that only declines).
  Index from = -1;
  /// Leading elements that are protocol (event ids, times), not counted as logical bytes.
  std::size_t header = 0;
  /// Value of `from` for a message that is not counted.
  static constexpr Index kNoAgent = -1;
};

/// A point-to-point channel for gossip messages between neighbouring agents (see the file
/// comment for tags and traffic accounting).
class NeighborExchange {
 public:
  /// First edge tag; kind tags are [0, kEdgeTagBase).
  static constexpr int kEdgeTagBase = 8192;
  /// Number of distinct edge tags: edges e and e + kEdgeTagSpan share a tag.
  static constexpr int kEdgeTagSpan = 16384;

  /// Collective over `parent`: duplicates it (MPI_Comm_dup; freed on destruction). Traffic is
  /// counted into parent.traffic(): `parent` must outlive the channel.
  explicit NeighborExchange(Communicator& parent);
  /// Moves the channel (and its duplicated communicator).
  NeighborExchange(NeighborExchange&&) noexcept = default;
  NeighborExchange(const NeighborExchange&) = delete;
  NeighborExchange& operator=(const NeighborExchange&) = delete;

  /// This rank in the channel's communicator (the same as in the parent).
  int rank() const { return comm_.rank(); }
  /// Number of ranks of the channel's communicator.
  int size() const { return comm_.size(); }

  /// The tag of edge `edge` (>= 0). Throws Error if it exceeds max_tag.
  int edge_tag(std::int64_t edge) const;
  /// The tag of message kind `kind` (0 <= kind < kEdgeTagBase). Throws Error otherwise.
  int kind_tag(int kind) const;

  /// Blocking send of `buf` to rank `peer` with `tag`; counted as described above.
  template <MpiElement T>
  void send(std::span<const T> buf, int peer, int tag, PeerMessage m = {}) {
    count(buf.size(), sizeof(T), m);
    comm_.send(buf, peer, tag);
  }
  /// Nonblocking send; `buf` must live until the request completes.
  template <MpiElement T>
  Request isend(std::span<const T> buf, int peer, int tag, PeerMessage m = {}) {
    count(buf.size(), sizeof(T), m);
    return comm_.isend(buf, peer, tag);
  }
  /// Blocking receive from rank `peer` (or Communicator::any_source) with `tag` (or any_tag).
  template <MpiElement T>
  MessageInfo recv(std::span<T> buf, int peer, int tag) {
    return comm_.recv(buf, peer, tag);
  }
  /// Nonblocking receive; `buf` must live until the request completes.
  template <MpiElement T>
  Request irecv(std::span<T> buf, int peer, int tag) {
    return comm_.irecv(buf, peer, tag);
  }
  /// Sends `mine` to and receives `theirs` from rank `peer` on the same tag (nonblocking send,
  /// blocking receive, then waits for the send): the symmetric exchange of one edge event.
  template <MpiElement T>
  MessageInfo exchange(std::span<const T> mine, std::span<T> theirs, int peer, int tag,
                       PeerMessage m = {}) {
    Request sent = isend(mine, peer, tag, m);
    const MessageInfo info = recv(theirs, peer, tag);
    sent.wait();
    return info;
  }
  /// Nonblocking probe for any message on the channel (any source, any tag).
  bool iprobe(MessageInfo& info) {
    return comm_.iprobe(Communicator::any_source, Communicator::any_tag, info);
  }

  /// Logical traffic of a message between two agents of this rank, delivered in memory:
  /// `bytes` and one message for agent `from` (nothing reaches MPI).
  void count_in_memory(Index from, std::uint64_t bytes) { traffic().add_peer(from, bytes); }

  /// The traffic the channel counts into (the parent's).
  Traffic& traffic() { return comm_.traffic(); }
  /// The channel's own communicator (for tests).
  Communicator& communicator() { return comm_; }

 private:
  void count(std::size_t elements, std::size_t element_size, const PeerMessage& m);

  Communicator comm_;
};

}  // namespace distopt
