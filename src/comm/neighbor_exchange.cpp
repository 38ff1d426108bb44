#include "distopt/comm/neighbor_exchange.hpp"

#include <string>

#include "distopt/core/error.hpp"

namespace distopt {

NeighborExchange::NeighborExchange(Communicator& parent) : comm_(parent.duplicate(true)) {}

int NeighborExchange::edge_tag(std::int64_t edge) const {
  if (edge < 0) throw Error("NeighborExchange: negative edge " + std::to_string(edge));
  const int tag = kEdgeTagBase + static_cast<int>(edge % kEdgeTagSpan);
  if (tag > comm_.max_tag()) {
    throw Error("NeighborExchange: tag " + std::to_string(tag) + " of edge " +
                std::to_string(edge) + " exceeds MPI's max_tag " + std::to_string(comm_.max_tag()));
  }
  return tag;
}

int NeighborExchange::kind_tag(int kind) const {
  if (kind < 0 || kind >= kEdgeTagBase || kind > comm_.max_tag()) {
    throw Error("NeighborExchange: message kind " + std::to_string(kind) + " is outside 0.." +
                std::to_string(kEdgeTagBase - 1));
  }
  return kind;
}

void NeighborExchange::count(std::size_t elements, std::size_t element_size, const PeerMessage& m) {
  if (m.from == PeerMessage::kNoAgent) return;
  if (m.header > elements) throw Error("NeighborExchange: header longer than the message");
  traffic().add_peer(m.from, static_cast<std::uint64_t>(elements - m.header) * element_size);
}

}  // namespace distopt
