// --reduction ordered makes every metric, not only the model, bitwise identical at any rank count
// (issue 11, item 7): each family's run on the world communicator against the same run on
// Communicator::self() (every agent on this rank alone), all columns compared exactly except
// those that measure the machine (wall and phase times, MPI bytes and calls). The data have a
// test split of several kTestBlockRows blocks, so the test loss is summed over blocks that lie
// on different ranks at np 2 and 4. A --target-metric then stops at the same round everywhere.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "distopt/comm/communicator.hpp"
#include "distopt/data/local_data.hpp"
#include "distopt/run/experiment.hpp"
#include "distopt/run/options.hpp"

using namespace distopt;

namespace {

/// Columns that measure the machine rather than the run.
bool machine_dependent(const std::string& name) {
  return name == "wall_time" || name.rfind("time_", 0) == 0 || name == "bytes_mpi" ||
         name.rfind("mpi_", 0) == 0;
}

Config make_config(std::map<std::string, std::string> kv) {
  kv.emplace("reduction", "ordered");
  kv.emplace("rounds", "6");
  kv.emplace("eval-every", "1");
  kv.emplace("log-format", "none");
  kv.emplace("output", "none");
  kv.emplace("seed", "5");
  return Config::from_map(train_options(), kv);
}

void expect_same_metrics(const std::map<std::string, std::string>& kv, const char* what) {
  auto world = Communicator::world();
  auto self = Communicator::self();
  const Config cfg = make_config(kv);
  const ExperimentOutcome rw = run_experiment(world, cfg);
  const ExperimentOutcome rs = run_experiment(self, cfg);
  EXPECT_EQ((rw.model - rs.model).norm(), 0.0) << what;
  ASSERT_EQ(rw.log.names(), rs.log.names()) << what;
  int compared = 0;
  for (const auto& name : rw.log.names()) {
    if (machine_dependent(name)) continue;
    EXPECT_EQ(rw.log.column(name), rs.log.column(name)) << what << ": column " << name;
    ++compared;
  }
  EXPECT_GE(compared, 4) << what;
  EXPECT_EQ(rw.summary.rounds_done, rs.summary.rounds_done) << what;
}

// Synthetic(1,1) with 8 clients: about 100 rows each, a 30% test split of several blocks.
const std::map<std::string, std::string> kSoftmax = {
    {"problem", "softmax"},
    {"data", "synthetic:fedprox:alpha=1,beta=1,clients=8,test=0.3"},
    {"partition", "natural"},
    {"agents", "8"}};

std::map<std::string, std::string> with(std::map<std::string, std::string> base,
                                        const std::map<std::string, std::string>& extra) {
  for (const auto& [k, v] : extra) base[k] = v;
  return base;
}

}  // namespace

TEST(OrderedMetrics, GradientDescentAndSgd) {
  expect_same_metrics(with(kSoftmax, {{"algorithm", "gd"}, {"lr", "0.5"}}), "gd");
  expect_same_metrics(with(kSoftmax, {{"algorithm", "sgd"}, {"lr", "0.2"}, {"batch-size", "7"}}),
                      "sgd");
}

TEST(OrderedMetrics, FederatedWithPartialParticipationAndCompression) {
  expect_same_metrics(with(kSoftmax, {{"algorithm", "fedavg"},
                                      {"clients-per-round", "3"},
                                      {"local-steps", "4"},
                                      {"batch-size", "5"},
                                      {"lr", "0.05"}}),
                      "fedavg");
  expect_same_metrics(with(kSoftmax, {{"algorithm", "scaffold"},
                                      {"local-steps", "3"},
                                      {"batch-size", "5"},
                                      {"lr", "0.05"},
                                      {"compressor", "topk:0.1"},
                                      {"feedback", "ef21"}}),
                      "scaffold + topk/ef21");
}

TEST(OrderedMetrics, GossipAndDadao) {
  const std::map<std::string, std::string> ls = {{"problem", "least-squares"},
                                                 {"data", "synthetic:least-squares"},
                                                 {"agents", "8"},
                                                 {"weighting", "uniform"},
                                                 {"l2", "0.1"},
                                                 {"graph", "ring"},
                                                 {"lr", "theory"}};
  expect_same_metrics(with(ls, {{"algorithm", "gossip"}, {"gossip-steps", "2"}}), "gossip");
  expect_same_metrics(with(ls, {{"algorithm", "dadao"}, {"clock", "virtual"}}), "dadao");
}

TEST(OrderedMetrics, TargetMetricStopsAtTheSameRound) {
  // A threshold between two evaluations of the trajectory (first measured on this rank alone).
  auto self = Communicator::self();
  const auto kv = with(kSoftmax, {{"algorithm", "gd"}, {"lr", "0.5"}, {"rounds", "30"}});
  const ExperimentOutcome full = run_experiment(self, make_config(kv));
  const auto& loss = full.log.column("loss");
  ASSERT_GT(loss.size(), 20u);
  const double threshold = 0.5 * (loss[12] + loss[13]);
  char target[64];
  std::snprintf(target, sizeof target, "loss<%.17g", threshold);
  expect_same_metrics(with(kv, {{"target-metric", target}}), "gd with a target");
  auto world = Communicator::world();
  const ExperimentOutcome rw =
      run_experiment(world, make_config(with(kv, {{"target-metric", target}})));
  EXPECT_EQ(rw.summary.termination, Termination::kTarget);
  EXPECT_EQ(rw.summary.rounds_done, 13);
}
