#include "distopt/topology/graph_spec.hpp"

#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "distopt/core/error.hpp"
#include "distopt/core/random.hpp"
#include "distopt/core/strings.hpp"

namespace distopt {

namespace {

constexpr const char* kKey = "graph";
// Attempts at drawing a connected random graph before giving up (p or r too small).
constexpr int kMaxAttempts = 1000;
// Key of the graph's random stream: distinct from every agent id.
constexpr std::uint64_t kGraphStreamKey = 0x6772617068ull;  // "graph"


double parse_double(const char* key, const std::string& text) {
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size()) throw ConfigError(key, "expected a number, got '" + text + "'");
  return v;
}

std::int64_t parse_int(const char* key, const std::string& text) {
  std::size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size()) throw ConfigError(key, "expected an integer, got '" + text + "'");
  return v;
}

Index parse_count(const std::string& text, const std::string& what) {
  const auto v = parse_int(kKey, text);
  if (v < 1) throw ConfigError(kKey, what + " must be at least 1, got " + text);
  return static_cast<Index>(v);
}

std::vector<Edge> ring_edges(Index n) {
  std::vector<Edge> e;
  for (Index i = 0; i + 1 < n; ++i) e.push_back({i, i + 1});
  if (n > 2) e.push_back({0, n - 1});
  return e;
}

std::vector<Edge> grid_edges(Index r, Index c, bool wrap) {
  std::vector<Edge> e;
  auto id = [c](Index i, Index j) { return i * c + j; };
  for (Index i = 0; i < r; ++i) {
    for (Index j = 0; j < c; ++j) {
      if (j + 1 < c) e.push_back({id(i, j), id(i, j + 1)});
      else if (wrap && c > 2) e.push_back({id(i, 0), id(i, j)});
      if (i + 1 < r) e.push_back({id(i, j), id(i + 1, j)});
      else if (wrap && r > 2) e.push_back({id(0, j), id(i, j)});
    }
  }
  return e;
}

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

/// The edge list of `path`. Every non-blank line (after removing a '#' comment) must be two
/// decimal node ids in 0..agents-1 (the graph must have --agents nodes anyway, so a larger id is
/// refused at its line, before a graph of that size is built; agents = 0: no upper bound).
std::vector<Edge> read_edge_list(const std::string& path, Index agents, Index& n) {
  std::ifstream in(path);
  if (!in) throw ConfigError(kKey, "cannot open edge-list file '" + path + "'");
  std::vector<Edge> e;
  std::string line;
  n = 0;
  std::int64_t lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    const auto bad = [&](const std::string& what) {
      return ConfigError(kKey, path + ":" + std::to_string(lineno) + ": " + what);
    };
    if (auto h = line.find('#'); h != std::string::npos) line.resize(h);
    std::istringstream ls(line);
    std::vector<std::string> words;
    for (std::string w; ls >> w;) words.push_back(w);
    if (words.empty()) continue;  // blank or comment line
    if (words.size() != 2) {
      throw bad("expected 'u v' (two node ids), got '" + joined(words) + "'");
    }
    Index id[2] = {0, 0};
    for (int k = 0; k < 2; ++k) {
      const std::string& w = words[static_cast<std::size_t>(k)];
      long long v = 0;
      const auto r = std::from_chars(w.data(), w.data() + w.size(), v);
      if (r.ec == std::errc::result_out_of_range)
        throw bad("node id " + w + " does not fit in 64 bits");
      if (r.ec != std::errc() || r.ptr != w.data() + w.size()) {
        throw bad("expected 'u v' (two node ids), got '" + joined(words) + "'");
      }
      if (v < 0) throw bad("negative node id " + w);
      if (agents > 0 && v >= agents) {
        throw bad("node id " + w + " outside 0.." + std::to_string(agents - 1) + " (--agents " +
                  std::to_string(agents) + ")");
      }
      id[k] = static_cast<Index>(v);
    }
    e.push_back({id[0], id[1]});
    n = std::max<Index>(n, std::max(id[0], id[1]) + 1);
  }
  if (n == 0) throw ConfigError(kKey, "edge-list file '" + path + "' holds no edge");
  return e;
}

/// Generated kinds are checked against --agents before their edges are built: a size like
/// ring:100000000000 is refused at once instead of allocating (make_graph checks again).
Index expect_agents(const GraphArgs& a, Index n) {
  if (a.agents > 0 && n != a.agents) {
    throw ConfigError(kKey, "'" + a.spec + "' has " + std::to_string(n) +
                                " nodes but --agents is " + std::to_string(a.agents));
  }
  return n;
}

/// "expected <form>, got '<spec>'" unless the spec has k ':'-separated parts (a bare kind counts
/// for k = 2: its size is --agents).
void need_parts(const GraphArgs& a, std::size_t k, const char* form) {
  if (a.parts.size() != k && !(a.parts.size() == 1 && k == 2)) {
    throw ConfigError(kKey, "expected " + std::string(form) + ", got '" + a.spec + "'");
  }
}

Index size_or_agents(const GraphArgs& a, const char* form) {
  need_parts(a, 2, form);
  return expect_agents(a, a.parts.size() == 1 ? a.agents : parse_count(a.parts[1], "node count"));
}

void dims(const GraphArgs& a, const char* form, Index& r, Index& c) {
  if (a.parts.size() != 2) {
    throw ConfigError(kKey, "expected " + std::string(form) + ", got '" + a.spec + "'");
  }
  const auto rc = split(a.parts[1], 'x');
  if (rc.size() != 2) {
    throw ConfigError(kKey, "expected " + std::string(form) + ", got '" + a.spec + "'");
  }
  r = parse_count(rc[0], "rows");
  c = parse_count(rc[1], "columns");
  if (r > a.agents && a.agents > 0) expect_agents(a, r);  // r * c may overflow: check r alone first
  if (c > a.agents && a.agents > 0) expect_agents(a, c);
  expect_agents(a, r * c);
}

Graph ring(const GraphArgs& a) {
  const Index n = size_or_agents(a, "ring:<n>");
  return Graph(n, ring_edges(n), a.spec);
}

Graph path(const GraphArgs& a) {
  const Index n = size_or_agents(a, "path:<n>");
  std::vector<Edge> edges;
  for (Index i = 0; i + 1 < n; ++i) edges.push_back({i, i + 1});
  return Graph(n, edges, a.spec);
}

Graph star(const GraphArgs& a) {
  const Index n = size_or_agents(a, "star:<n>");
  std::vector<Edge> edges;
  for (Index i = 1; i < n; ++i) edges.push_back({0, i});
  return Graph(n, edges, a.spec);
}

Graph complete(const GraphArgs& a) {
  const Index n = size_or_agents(a, "complete:<n>");
  std::vector<Edge> edges;
  for (Index i = 0; i < n; ++i)
    for (Index j = i + 1; j < n; ++j) edges.push_back({i, j});
  return Graph(n, edges, a.spec);
}

Graph grid_or_torus(const GraphArgs& a, bool torus) {
  Index r = 0, c = 0;
  dims(a, torus ? "torus:<r>x<c>" : "grid:<r>x<c>", r, c);
  return Graph(r * c, grid_edges(r, c, torus), a.spec);
}

Graph hypercube(const GraphArgs& a) {
  if (a.parts.size() != 2) {
    throw ConfigError(kKey, "expected hypercube:<dim>, got '" + a.spec + "'");
  }
  const auto dim = parse_int(kKey, a.parts[1]);
  if (dim < 0 || dim > 20) {
    throw ConfigError(kKey, "hypercube dimension must be in 0..20, got " + a.parts[1]);
  }
  const Index n = expect_agents(a, Index{1} << dim);
  std::vector<Edge> edges;
  for (Index i = 0; i < n; ++i)
    for (std::int64_t b = 0; b < dim; ++b)
      if (const Index j = i ^ (Index{1} << b); j > i) edges.push_back({i, j});
  return Graph(n, edges, a.spec);
}

/// Erdős–Rényi G(n, p) or a random geometric graph, redrawn until connected.
Graph random_graph(const GraphArgs& a, bool er) {
  if (a.parts.size() != 3) {
    throw ConfigError(kKey, std::string("expected ") +
                                (er ? "er:<n>:<p>" : "geometric:<n>:<radius>") + ", got '" +
                                a.spec + "'");
  }
  const Index n = expect_agents(a, parse_count(a.parts[1], "node count"));
  const double q = parse_double(kKey, a.parts[2]);
  if (er && !(q > 0 && q <= 1)) {
    throw ConfigError(kKey, "edge probability must be in (0, 1], got " + a.parts[2]);
  }
  if (!er && !(q > 0)) throw ConfigError(kKey, "radius must be positive, got " + a.parts[2]);
  std::vector<Edge> edges;
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    RandomStream rng(a.seed, kGraphStreamKey, static_cast<std::uint64_t>(attempt), Purpose::kUser);
    edges.clear();
    if (er) {
      for (Index i = 0; i < n; ++i)
        for (Index j = i + 1; j < n; ++j)
          if (rng.uniform() < q) edges.push_back({i, j});
    } else {
      std::vector<double> px(static_cast<std::size_t>(n)), py(px.size());
      for (std::size_t i = 0; i < px.size(); ++i) {
        px[i] = rng.uniform();
        py[i] = rng.uniform();
      }
      for (std::size_t i = 0; i < px.size(); ++i)
        for (std::size_t j = i + 1; j < px.size(); ++j)
          if (std::hypot(px[i] - px[j], py[i] - py[j]) <= q)
            edges.push_back({static_cast<Index>(i), static_cast<Index>(j)});
    }
    Graph g(n, edges, a.spec);
    if (g.connected()) return g;
  }
  throw ConfigError(kKey, "'" + a.spec + "': no connected graph in " +
                              std::to_string(kMaxAttempts) + " draws; raise the " +
                              (er ? "edge probability" : "radius"));
}

Graph edge_list(const GraphArgs& a) {
  if (!a.has_arg) throw graph_registry().unknown(a.spec);  // "file" alone is no file
  Index n = 0;
  const auto edges = read_edge_list(a.arg, a.agents, n);
  return Graph(n, edges, a.spec);
}

}  // namespace

GraphRegistry& graph_registry() {
  static GraphRegistry r = [] {
    GraphRegistry reg("graph", kKey);
    reg.add({"ring", "ring[:<n>]", "cycle", ring});
    reg.add({"path", "path[:<n>]", "path", path});
    reg.add({"star", "star[:<n>]", "node 0 linked to every other", star});
    reg.add({"complete", "complete[:<n>]", "every pair linked", complete});
    reg.add({"grid", "grid:<r>x<c>", "r x c lattice",
             [](const GraphArgs& a) { return grid_or_torus(a, false); }});
    reg.add({"torus", "torus:<r>x<c>", "r x c lattice with wrap-around",
             [](const GraphArgs& a) { return grid_or_torus(a, true); }});
    reg.add({"hypercube", "hypercube:<dim>", "2^dim nodes, edges between ids one bit apart",
             hypercube});
    reg.add({"er", "er:<n>:<p>", "Erdos-Renyi G(n, p), redrawn until connected",
             [](const GraphArgs& a) { return random_graph(a, true); }});
    reg.add({"geometric", "geometric:<n>:<radius>",
             "random geometric graph in the unit square, redrawn until connected",
             [](const GraphArgs& a) { return random_graph(a, false); }});
    reg.add({"file", "file:<path>",
             "edge list, one 'u v' pair of 0-based ids per line ('file:' optional)", edge_list});
    return reg;
  }();
  return r;
}

Graph make_graph(const std::string& spec, Index agents, std::uint64_t seed) {
  // A bare name of an existing file is an edge list (even "ring", if such a file exists).
  const bool bare_file =
      spec.find(':') == std::string::npos && std::filesystem::is_regular_file(spec);
  const auto parts = split_spec(spec);
  GraphArgs args;
  args.spec = spec;
  args.arg = bare_file ? spec : parts.arg;
  args.has_arg = bare_file || parts.has_arg;
  args.parts = split(spec, ':');
  args.agents = agents;
  args.seed = seed;
  const auto& entry = graph_registry().get(bare_file ? "file" : parts.kind, spec);
  Graph g = [&] {
    try {
      return entry.make(args);
    } catch (const ConfigError&) {
      throw;
    } catch (const InputError& e) {
      throw ConfigError(kKey, e.what());
    }
  }();
  if (g.nodes() != agents) {
    throw ConfigError(kKey, "'" + spec + "' has " + std::to_string(g.nodes()) +
                                " nodes but --agents is " + std::to_string(agents));
  }
  if (!g.connected()) throw ConfigError(kKey, "'" + spec + "' is not connected");
  return g;
}

}  // namespace distopt
