// libFuzzer target: the edge-list graph file (--graph file:<path>), through make_graph: parsing,
// building the Graph, the node-count and connectivity checks.
#include "distopt/topology/graph_spec.hpp"
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto& path = distopt_fuzz::write_input(data, size, ".edges");
  return distopt_fuzz::run_one([&] {
    // 8 agents: the seeds hold 8-node graphs, so valid inputs get past the node-count check.
    const auto g = distopt::make_graph("file:" + path, 8, 1);
    if (g.nodes() != 8 || !g.connected()) std::abort();
  });
}
