#pragma once
// --graph: the communication network of gossip methods, built identically on every rank.
//   ring:<n>  path:<n>  star:<n>  complete:<n>  grid:<r>x<c>  torus:<r>x<c>  hypercube:<dim>
//   er:<n>:<p>            Erdős–Rényi G(n, p), resampled (seeded) until connected
//   geometric:<n>:<r>     random geometric graph in the unit square, radius r, resampled until
//                         connected (the reference code's "random_geom")
//   file:<path> | <path>  edge list: one "u v" pair of 0-based node ids per line, '#' comments
// A bare kind without size ("ring", "complete", ...) takes n = --agents. The kinds come from one
// table, graph_registry(), which user code can extend.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "distopt/core/registry.hpp"
#include "distopt/topology/graph.hpp"

namespace distopt {

/// What a graph factory receives: the --graph spec, split at its first ':' and at every ':'.
struct GraphArgs {
  std::string spec;      ///< the whole spec, "er:20:0.3"
  std::string arg;       ///< the part after the first ':', "20:0.3" (a bare file: the path)
  bool has_arg = false;  ///< whether the spec has a ':' (or is a bare file path)
  std::vector<std::string> parts;  ///< the spec split at every ':', {"er", "20", "0.3"}
  Index agents = 0;                ///< --agents: the node count the graph must have
  std::uint64_t seed = 0;          ///< seed of random graphs
};

/// Builds a graph (its name should be args.spec); ConfigError("graph", ...) for a spec it cannot
/// take. make_graph checks the node count and connectivity afterwards.
using GraphFactory = std::function<Graph(const GraphArgs&)>;
/// The registry type of --graph.
using GraphRegistry = Registry<GraphFactory>;

/// The --graph registry: ring, path, star, complete, grid, torus, hypercube, er, geometric, file
/// (in that order), then the entries user code added. Errors name the option "graph";
/// graph_registry().choices() is the value part of --graph's help line.
GraphRegistry& graph_registry();

/// Builds the graph named by `spec`, looked up in graph_registry() (a bare path of an existing
/// file, without ':', is an edge-list file). Throws ConfigError("graph", ...) on a malformed spec,
/// a disconnected graph, or a node count different from `agents` (the --agents option). Random
/// kinds draw from counter-based streams keyed by `seed`, so every rank builds the same graph.
Graph make_graph(const std::string& spec, Index agents, std::uint64_t seed);

}  // namespace distopt
