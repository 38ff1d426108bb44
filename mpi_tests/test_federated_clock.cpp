// Simulated time of the synchronous federated methods (round_clock.hpp, metric virtual_time), on
// the heterogeneous quadratics of test_federated_common.hpp with per-client speeds from a file:
//  * a round of fedavg/scaffold/fedspeed lasts max_{i∈S_t} K_i/s_i, with K_i = E·⌈n_i/B⌉ local
//    steps (E epochs of batch B over client i's n_i rows) and S_t the round's active clients as
//    the method reports them; the expected sum is computed here from the problem's row counts;
//  * dfedavg, where every client trains every round, lasts max_i K_i/s_i per round;
//  * with the default speed (constant 1) a round lasts its longest local run's step count;
//  * a run resumed from a checkpoint reports the uninterrupted run's time (the clock is replayed);
//  * the same at every rank count (the suite runs at 1, 2 and 4 ranks, the expected values do not
//    depend on it).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "distopt/federated/federated_round.hpp"
#include "distopt/method/state_archive.hpp"
#include "test_federated_common.hpp"

using namespace fedtest;

namespace {

const Problem kProblem{.clients = 8, .dim = 3, .base_rows = 30};
const std::vector<double> kSpeeds = {1, 0.25, 2, 3, 0.5, 5, 6, 8};
constexpr Index kEpochs = 2;
constexpr Index kBatch = 7;

/// K_i of the schedule above, from the problem's row count.
double steps_of(Index client) {
  return static_cast<double>(kEpochs * ((kProblem.rows(client) + kBatch - 1) / kBatch));
}

std::string speeds_file(Communicator& comm) {
  const std::string p = std::string(DISTOPT_BINARY_DIR) + "/test_federated_clock_np" +
                        std::to_string(comm.size()) + ".speeds";
  if (comm.is_root()) {
    std::ofstream f(p);
    for (double v : kSpeeds) f << v << "\n";
  }
  comm.barrier();
  return p;
}

Config config(Communicator& comm, const std::string& algorithm, bool speeds,
              std::map<std::string, std::string> extra = {}) {
  extra["algorithm"] = algorithm;
  extra["local-epochs"] = std::to_string(kEpochs);
  if (speeds) extra["client-speed"] = "file:" + speeds_file(comm);
  Config c = make_config(kProblem, extra);
  c.set("batch-size", std::to_string(kBatch));
  return c;
}

double virtual_time(Algorithm& algo) {
  MetricRow row;
  algo.extra_metrics(row);
  EXPECT_TRUE(row.has("virtual_time"));
  return row.get("virtual_time");
}

}  // namespace

TEST(RoundClock, SynchronousRoundLastsAsLongAsItsSlowestActiveClient) {
  auto comm = Communicator::world();
  for (const char* algorithm : {"fedavg", "scaffold", "fedspeed"}) {
    for (bool speeds : {true, false}) {
      RunSetup s(comm, kProblem, config(comm, algorithm, speeds, {{"participation", "0.375"}}));
      auto algo = make_algorithm(s.config, s.ctx);
      auto* round = dynamic_cast<FederatedRound*>(algo.get());
      ASSERT_NE(round, nullptr) << algorithm;
      algo->initialize(Vector::Zero(kProblem.dim));
      double expected = 0;
      double slowest_seen = 0, fastest_seen = 1e300;
      for (std::int64_t t = 1; t <= 12; ++t) {
        algo->step(t);
        const auto& active = round->last_active();
        ASSERT_EQ(active.size(), 3u);
        double longest = 0;
        for (Index i : active) {
          const double tau = steps_of(i) / (speeds ? kSpeeds[static_cast<std::size_t>(i)] : 1.0);
          longest = std::max(longest, tau);
        }
        slowest_seen = std::max(slowest_seen, longest);
        fastest_seen = std::min(fastest_seen, longest);
        expected += longest;
        EXPECT_DOUBLE_EQ(virtual_time(*algo), expected) << algorithm << " round " << t;
      }
      // Not vacuous: rounds of different lengths occurred (the samples differ in their slowest).
      EXPECT_LT(fastest_seen, slowest_seen) << algorithm;
    }
  }
}

TEST(RoundClock, DecentralizedRoundLastsAsLongAsTheSlowestClient) {
  auto comm = Communicator::world();
  RunSetup s(comm, kProblem, config(comm, "dfedavg", true));
  auto algo = make_algorithm(s.config, s.ctx);
  algo->initialize(Vector::Zero(kProblem.dim));
  double slowest = 0;
  for (Index i = 0; i < kProblem.clients; ++i) {
    slowest = std::max(slowest, steps_of(i) / kSpeeds[static_cast<std::size_t>(i)]);
  }
  double expected = 0;
  for (std::int64_t t = 1; t <= 5; ++t) {
    algo->step(t);
    expected += slowest;
    EXPECT_DOUBLE_EQ(virtual_time(*algo), expected) << "round " << t;
  }
}

TEST(RoundClock, ResumedRunReportsTheUninterruptedTime) {
  auto comm = Communicator::world();
  for (const char* algorithm : {"fedavg", "dfedavg"}) {
    const std::map<std::string, std::string> extra =
        std::string(algorithm) == "fedavg"
            ? std::map<std::string, std::string>{{"participation", "0.5"}}
            : std::map<std::string, std::string>{};
    const Config cfg = config(comm, algorithm, true, extra);
    RunSetup whole(comm, kProblem, cfg);
    auto a = make_algorithm(whole.config, whole.ctx);
    a->initialize(Vector::Zero(kProblem.dim));
    for (std::int64_t t = 1; t <= 10; ++t) a->step(t);

    RunSetup first(comm, kProblem, cfg);
    auto b = make_algorithm(first.config, first.ctx);
    b->initialize(Vector::Zero(kProblem.dim));
    for (std::int64_t t = 1; t <= 6; ++t) b->step(t);
    StateArchive archive;
    b->save(archive);
    archive.put_count("trainer/round", 6);

    RunSetup second(comm, kProblem, cfg);
    auto c = make_algorithm(second.config, second.ctx);
    c->initialize(Vector::Zero(kProblem.dim));
    c->load(archive);
    for (std::int64_t t = 7; t <= 10; ++t) c->step(t);
    const double tw = virtual_time(*a), tc = virtual_time(*c);
    EXPECT_GT(tw, virtual_time(*b)) << algorithm;
    EXPECT_EQ(tc, tw) << algorithm;  // bit for bit
    EXPECT_EQ((c->model() - a->model()).norm(), 0.0) << algorithm;
  }
}
