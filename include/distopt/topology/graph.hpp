#pragma once
// An undirected simple graph over nodes 0..n-1: the communication network of gossip methods.
// Edges are stored once, as (u, v) with u < v, in a fixed order (the order the generator or the
// edge-list file gives, duplicates removed); that order is the edge id used by event streams and
// message tags, so it must be the same on every rank.
#include <string>
#include <vector>

#include "distopt/core/types.hpp"

namespace distopt {

/// An undirected edge between nodes u and v.
struct Edge {
  Index u = 0;  ///< one end; in a Graph's edges, the smaller one (u < v)
  Index v = 0;  ///< the other end
  /// The end that is not `node` (`node` must be u or v).
  Index other(Index node) const { return node == u ? v : u; }
};

/// An undirected simple graph with fixed edge ids (see the file comment).
class Graph {
 public:
  /// An empty graph (0 nodes).
  Graph() = default;
  /// A graph on nodes 0..n-1 with `edges` (either orientation; stored as u < v, in the given
  /// order). n < 1, self-loops and out-of-range ends throw InputError naming `name`; duplicate
  /// edges are dropped.
  Graph(Index n, const std::vector<Edge>& edges, std::string name = "");

  /// Number of nodes n.
  Index nodes() const { return n_; }
  /// Number of edges |E|.
  Index edge_count() const { return static_cast<Index>(edges_.size()); }
  /// The edges, indexed by edge id.
  const std::vector<Edge>& edges() const { return edges_; }
  /// The edge with id `e` (0 <= e < edge_count()).
  const Edge& edge(Index e) const { return edges_[static_cast<std::size_t>(e)]; }
  /// Ids of the edges incident to a node, increasing.
  const std::vector<Index>& incident(Index node) const { return incident_[static_cast<std::size_t>(node)]; }
  /// Number of edges incident to `node`.
  Index degree(Index node) const { return static_cast<Index>(incident(node).size()); }
  /// True if every node can reach every other (n = 1 counts as connected).
  bool connected() const;
  /// Combinatorial Laplacian D - A (dense, n x n).
  Matrix laplacian() const;
  /// The spec it was built from ("ring:8", a file path...).
  const std::string& name() const { return name_; }

 private:
  Index n_ = 0;
  std::vector<Edge> edges_;
  std::vector<std::vector<Index>> incident_;
  std::string name_;
};

}  // namespace distopt
