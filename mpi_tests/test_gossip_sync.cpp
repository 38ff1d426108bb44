// Synchronous decentralized gradient descent with Metropolis gossip (--algorithm gossip): exact
// counters, bitwise identity with a one-rank run, the biased fixed point of constant-step DGD and
// how more gossip steps per round shrink it.
#include <gtest/gtest.h>

#include "distopt/gossip/sync_gossip.hpp"
#include "distopt/topology/graph_spec.hpp"
#include "test_gossip_problems.hpp"

using namespace distopt;
using namespace distopt::gossip_test;

namespace {

struct Result {
  double dist = 0, consensus = 0, grads = 0, comms = 0, bytes_peer = 0;
  RowMatrix nodes;
};

Result run_gossip(Communicator& comm, const Problem& p, const std::string& graph, int Q, std::int64_t R,
                  const std::string& lr = "theory") {
  const std::uint64_t bytes0 = comm.traffic().local_total().bytes_peer;
  auto s = make_setup(comm, p, {{"algorithm", "gossip"}, {"graph", graph},
                                {"gossip-steps", std::to_string(Q)}, {"lr", lr}});
  SyncGossip a(*s->ctx, sync_gossip_options_from(s->config));
  a.initialize(s->objective->initial_point(1));
  for (std::int64_t r = 1; r <= R; ++r) a.step(r);
  MetricRow m;
  a.extra_metrics(m);
  Result out{m.get("dist_to_opt"), m.get("consensus"), m.get("grad_events"), m.get("comm_events"),
             static_cast<double>(comm.allreduce_sum(comm.traffic().local_total().bytes_peer - bytes0)),
             a.node_models()};
  return out;
}

}  // namespace

TEST(SyncGossip, CountersAndBitwiseIdentity) {
  auto world = Communicator::world();
  auto self = Communicator::self();
  Problem p;
  for (const char* g : {"ring", "star", "grid:4x4", "er:16:0.3"}) {
    SCOPED_TRACE(g);
    const Graph graph = make_graph(g, p.n, 3);
    const Result r = run_gossip(world, p, g, 3, 50);
    EXPECT_EQ(r.grads, 16.0 * 50);
    EXPECT_EQ(r.comms, static_cast<double>(graph.edge_count()) * 3 * 50);
    // Each edge activation moves one d-vector each way.
    EXPECT_EQ(r.bytes_peer, r.comms * 2 * p.d * sizeof(double));
    const Result one = run_gossip(self, p, g, 3, 50);
    EXPECT_TRUE(one.nodes == r.nodes);
  }
}

// Constant-step DGD converges to a neighbourhood of x* (its fixed point is not x* on
// heterogeneous data); more gossip steps per round and smaller steps tighten it.
TEST(SyncGossip, BiasShrinksWithMoreGossipSteps) {
  auto world = Communicator::world();
  for (bool logistic : {false, true}) {
    SCOPED_TRACE(logistic ? "logistic" : "least squares");
    Problem p;
    p.logistic = logistic;
    const Result start = run_gossip(world, p, "ring", 1, 0);
    const Result q1 = run_gossip(world, p, "ring", 1, 400);
    const Result q1_more = run_gossip(world, p, "ring", 1, 800);
    const Result q10 = run_gossip(world, p, "ring", 10, 400);
    EXPECT_LT(q1.dist, start.dist / 4);
    // Plateau: doubling the rounds does not help much (the floor is the bias, not slowness).
    EXPECT_GT(q1_more.dist, q1.dist / 2);
    EXPECT_GT(q1.dist, 1e-8);
    EXPECT_LT(q10.dist, q1.dist / 3);
    EXPECT_LT(q10.consensus, q1.consensus / 3);
    // The floor is O(γ²): a step 10 times smaller than 1/L lowers it by far more than 10.
    const Result small = run_gossip(world, p, "ring", 1, 1500, "0.04");
    EXPECT_LT(small.dist, q1.dist / 10);
    // Complete graph: Metropolis W = J/n averages exactly, so DGD is centralised GD on f and
    // converges linearly to x* itself.
    const Result k = run_gossip(world, p, "complete", 1, 400);
    EXPECT_LT(k.dist, 1e-12);
  }
}
