// DADAO with real asynchrony (--clock wall): converges on the same problems (looser tolerance),
// always terminates within a bounded time (the per-round drain answers every exchange), and with a
// straggler rank (--slow-rank) the other ranks' nodes keep their gradient rate and the run still
// converges: progress does not wait for the slowest node.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>

#include "distopt/gossip/dadao.hpp"
#include "test_gossip_problems.hpp"

using namespace distopt;
using namespace distopt::gossip_test;

namespace {

struct WallRun {
  double dist = 0, seconds = 0;
  double grads_here = 0;  // this rank's gradient events
  double expected_here = 0;
};

WallRun run_wall(Communicator& comm, const Problem& p, const std::string& graph, std::int64_t T,
                 std::map<std::string, std::string> extra = {}) {
  extra["algorithm"] = "dadao";
  extra["graph"] = graph;
  extra["clock"] = "wall";
  if (!extra.count("time-scale")) extra["time-scale"] = "0.02";
  auto s = make_setup(comm, p, extra);
  Dadao a(*s->ctx, dadao_options_from(s->config));
  const auto t0 = std::chrono::steady_clock::now();
  a.initialize(s->objective->initial_point(1));
  for (std::int64_t r = 1; r <= T; ++r) a.step(r);
  MetricRow m;
  a.extra_metrics(m);
  WallRun w;
  w.dist = m.get("dist_to_opt");
  w.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  w.grads_here = static_cast<double>(a.problem().local_gradients());
  w.expected_here = static_cast<double>(a.problem().local_count() * T);
  return w;
}

}  // namespace

TEST(DadaoWall, ConvergesAndTerminates) {
  auto world = Communicator::world();
  for (bool logistic : {false, true}) {
    const char* g = logistic ? "complete" : "ring";
    SCOPED_TRACE(std::string(logistic ? "logistic " : "least squares ") + g);
    Problem p;
    p.logistic = logistic;
    // 150 units of virtual time at 20 ms each: 3 s of wall time per run. In virtual time the same
    // budget reaches about 1e-6; message delays cost some of it.
    const WallRun w = run_wall(world, p, g, 150);
    EXPECT_LT(w.dist, 1e-4);
    EXPECT_LT(w.seconds, 15.0);
  }
}

TEST(DadaoWall, StragglerDoesNotHoldTheOthersBack) {
  auto world = Communicator::world();
  Problem p;
  const int slow = world.size() - 1;
  // Every gradient costs 0.1 ms, the slow rank's 5 ms. A rank holds 16/P nodes, each wanting one
  // gradient per 10 ms unit: the normal ranks need at most 1.6 ms of compute per unit and keep up;
  // the slow rank would need 80/P ms per 10 ms at P ≤ 4, so its nodes absorb missed gradient
  // events while the other ranks' nodes keep their rate.
  const WallRun w = run_wall(world, p, "ring", 100,
                             {{"time-scale", "0.01"}, {"grad-cost", "0.0001"},
                              {"slow-rank", std::to_string(slow) + ":50"}});
  EXPECT_LT(w.seconds, 20.0);
  const double share = w.grads_here / w.expected_here;
  if (world.rank() == slow) {
    EXPECT_LT(share, 0.9);
  } else {
    EXPECT_GT(share, 0.75);
  }

  // Convergence is asserted below with a 4× straggler; at 50× (and at one rank, where every node
  // is slow) 100 time units are too few gradients to assert any accuracy.
  (void)w.dist;
}

// One rank slowed 4×, and the run still converges. Every gradient costs 0.4·scale·P/16 seconds, so
// a normal rank (16/P nodes at rate 1) is busy 40% of the time and the slow rank would need 160%:
// it cannot keep up. With --grad-rates uniform its nodes absorb the events they miss; with auto
// they run their clocks at rate 1/4. Either way the run converges, because an edge has at most one
// exchange in flight (wall_clock_engine.hpp): the divergence seen before came from overlapping
// exchanges on one edge, each correcting the same difference, not from the slow gradient clocks.
TEST(DadaoWall, ConvergesWithOneRankSlowedFourTimes) {
  auto world = Communicator::world();
  Problem p;
  const int slow = world.size() - 1;
  const double scale = 0.01;
  char cost[32];
  std::snprintf(cost, sizeof cost, "%.6f", 0.4 * scale * world.size() / 16);
  for (const char* rates : {"uniform", "auto"}) {
    SCOPED_TRACE(rates);
    const WallRun w = run_wall(world, p, "ring", 200,
                               {{"time-scale", "0.01"}, {"grad-cost", cost}, {"grad-rates", rates},
                                {"slow-rank", std::to_string(slow) + ":4"}});
    EXPECT_LT(w.dist, 1e-4);
    EXPECT_LT(w.seconds, 12.0);
    const double share = w.grads_here / w.expected_here;
    if (world.rank() == slow) EXPECT_LT(share, 0.8);  // the straggler really takes fewer gradients
    else EXPECT_GT(share, 0.75);
  }
}
