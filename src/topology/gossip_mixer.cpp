#include "distopt/topology/gossip_mixer.hpp"

#include <span>
#include <string>

#include "distopt/core/error.hpp"

namespace distopt {

GossipMixer::GossipMixer(const Graph& graph, const Placement& placement, NeighborExchange& channel)
    : graph_(graph), placement_(placement), channel_(channel), w_(metropolis_weights(graph)) {
  if (graph_.nodes() != placement_.agents()) {
    throw Error("GossipMixer: the graph has " + std::to_string(graph_.nodes()) + " nodes for " +
                std::to_string(placement_.agents()) + " agents");
  }
  slot_.assign(static_cast<std::size_t>(graph_.edge_count()), -1);
  const Index first = placement_.local_first();
  for (Index i = first; i < first + placement_.local_count(); ++i) {
    for (Index e : graph_.incident(i)) {
      if (graph_.edge(e).u == i) ++lower_edges_;
      if (placement_.is_local(graph_.edge(e).other(i))) continue;
      slot_[static_cast<std::size_t>(e)] = static_cast<Index>(remote_.size());
      remote_.push_back({e, i});
    }
  }
}

void GossipMixer::mix(RowMatrix& X) {
  const Index first = placement_.local_first();
  const Index d = X.cols();
  if (X.rows() != placement_.local_count())
    throw Error("GossipMixer: one row per local node expected");
  recv_.resize(static_cast<Index>(remote_.size()), d);
  next_.resize(X.rows(), d);
  std::vector<Request> reqs;
  reqs.reserve(2 * remote_.size());
  const auto n = static_cast<std::size_t>(d);
  for (std::size_t r = 0; r < remote_.size(); ++r) {
    const auto [e, i] = remote_[r];
    const int peer = placement_.owner(graph_.edge(e).other(i));
    const int tag = channel_.edge_tag(e);
    reqs.push_back(
        channel_.irecv(std::span<double>(recv_.row(static_cast<Index>(r)).data(), n), peer, tag));
    reqs.push_back(channel_.isend(std::span<const double>(X.row(i - first).data(), n), peer, tag,
                                  PeerMessage{i}));
  }
  wait_all(reqs);
  const auto bytes = static_cast<std::uint64_t>(d) * sizeof(double);
  for (Index i = first; i < first + placement_.local_count(); ++i) {
    auto out = next_.row(i - first);
    out = w_.self[static_cast<std::size_t>(i)] * X.row(i - first);
    for (Index e : graph_.incident(i)) {
      const Index j = graph_.edge(e).other(i);
      const double we = w_.edge[static_cast<std::size_t>(e)];
      const Index s = slot_[static_cast<std::size_t>(e)];
      if (s < 0) {
        out += we * X.row(j - first);
        channel_.count_in_memory(i, bytes);  // i's model, read by its local neighbour j
      } else {
        out += we * recv_.row(s);
      }
    }
  }
  X.swap(next_);
  activations_ += lower_edges_;
}

}  // namespace distopt
