// PowerSGD (ALGORITHMS.md §2) through gd on an MLP: training loss within 1% of uncompressed
// training after the same budget at a stated compression ratio; the same trajectory at any rank
// count (bitwise with --reduction ordered); resume is exact; traffic counts the factors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "distopt/comm/communicator.hpp"
#include "distopt/compress/power_sgd_uplink.hpp"
#include "distopt/core/random.hpp"
#include "distopt/data/local_data.hpp"
#include "distopt/method/algorithm.hpp"
#include "distopt/method/trainer.hpp"
#include "distopt/model/objective.hpp"
#include "distopt/run/method_registry.hpp"
#include "distopt/run/options.hpp"
#include "distopt/run/trainer_config.hpp"

using namespace distopt;

namespace {

constexpr Index kAgents = 8;
constexpr Index kRows = 150;
constexpr Index kFeatures = 32;
constexpr Index kClasses = 10;
const char* kProblem = "mlp:32";

/// A planted nonlinear multiclass problem: label = argmax of a random two-layer teacher.
void make_row(Index r, double* a, double& y) {
  RandomStream s(77, static_cast<std::uint64_t>(r), 0, Purpose::kData);
  RandomStream t(77, 1u << 30, 0, Purpose::kData);
  for (Index j = 0; j < kFeatures; ++j) a[j] = s.normal();
  double best = -1e300;
  for (Index c = 0; c < kClasses; ++c) {
    double z = 0;
    for (Index j = 0; j < kFeatures; ++j) z += std::tanh(a[j] * t.normal()) * t.normal();
    if (z > best) {
      best = z;
      y = static_cast<double>(c);
    }
  }
}

LocalData make_local(const Placement& pl) {
  LocalData d;
  const Index n = pl.local_count() * kRows;
  RowMatrix X(n, kFeatures);
  Vector y(n);
  for (Index i = 0; i < n; ++i) make_row(pl.local_first() * kRows + i, X.row(i).data(), y[i]);
  d.train = Dataset(std::move(X), std::move(y), Task::kMulticlass, kClasses);
  d.first_agent = pl.local_first();
  for (Index i = 0; i <= pl.local_count(); ++i) d.local_offsets.push_back(i * kRows);
  d.agent_rows.assign(static_cast<std::size_t>(pl.agents()), kRows);
  d.total_train = pl.agents() * kRows;
  d.n_features = kFeatures;
  d.n_classes = kClasses;
  d.task = Task::kMulticlass;
  return d;
}

struct TrainRun {
  Vector x;
  MetricLog log;
  Summary summary;
  double ratio = 0;
};

TrainRun train(Communicator& comm, std::map<std::string, std::string> kv,
               std::optional<TrainerOptions> topt = std::nullopt) {
  kv.emplace("algorithm", "gd");
  kv.emplace("agents", std::to_string(kAgents));
  kv.emplace("problem", kProblem);
  const Config cfg = Config::from_map(train_options(), kv);
  comm.traffic().restore({}, 0, 0);
  const Placement pl(kAgents, comm.size(), comm.rank());
  LocalData data = make_local(pl);
  auto obj = make_objective(kProblem, kFeatures, kClasses, Task::kMulticlass, Regularization{});
  RunContext ctx{comm,
                 *obj,
                 data,
                 pl,
                 cfg.get_uint("seed"),
                 reduction_from_string(cfg.get("reduction")),
                 std::vector<double>(kAgents, 1.0 / kAgents)};
  auto algo = make_algorithm(cfg, ctx);
  Trainer t(ctx, *algo, topt ? *topt : trainer_options_from(cfg));
  TrainRun r;
  r.summary = t.run();
  r.x = algo->model();
  r.log = t.log();
  if (cfg.get("compressor").rfind("powersgd", 0) == 0) {
    PowerSgdUplink probe(comm, Reduction::kAllreduce, pl, obj->layout(),
                         std::stoll(cfg.get("compressor").substr(9)), WirePrecision::kFloat64, 1);
    r.ratio = probe.compression_ratio();
  }
  return r;
}

}  // namespace

TEST(PowerSgd, MlpLossWithinOnePercentOfUncompressed) {
  auto comm = Communicator::world();
  const std::map<std::string, std::string> base = {{"lr", "0.5"}, {"rounds", "400"}, {"eval-every", "400"}};
  auto dense_kv = base;
  const TrainRun dense = train(comm, dense_kv);
  auto p_kv = base;
  p_kv["compressor"] = "powersgd:2";
  const TrainRun p = train(comm, p_kv);
  const double l0 = dense.log.column("loss").front();
  const double ld = dense.summary.final_row.get("loss"), lp = p.summary.final_row.get("loss");
  if (comm.is_root()) {
    std::printf("  mlp:32 d=%lld: loss %.4f -> dense %.5f, powersgd:2 %.5f (compression ratio %.1f)\n",
                static_cast<long long>(dense.x.size()), l0, ld, lp, p.ratio);
  }
  EXPECT_LT(ld, 0.5 * l0) << "the budget trains the model";
  EXPECT_LT(std::abs(lp - ld), 0.01 * ld) << "within 1% of uncompressed training loss";
  // W1 32×32 and W2 10×32 at rank 2: (2·64 + 2·42) values + 42 biases per agent, vs d = 1386.
  EXPECT_NEAR(p.ratio, 1386.0 / 254.0, 1e-12);
  EXPECT_GT(p.ratio, 5.0);
  // Logical upload per agent: 254 values of 8 bytes per round (down: the dense model).
  EXPECT_EQ(p.log.column("bytes_logical").back(), kAgents * 400.0 * (254 + 1386) * 8);
}

TEST(PowerSgd, SameTrajectoryAtAnyRankCountAndExactResume) {
  auto world = Communicator::world();
  auto self = Communicator::self();
  const std::map<std::string, std::string> kv = {{"compressor", "powersgd:2"}, {"lr", "0.5"},
                                                 {"rounds", "20"}, {"eval-every", "20"},
                                                 {"reduction", "ordered"}};
  const TrainRun rw = train(world, kv), rs = train(self, kv);
  EXPECT_EQ((rw.x - rs.x).norm(), 0.0) << "ordered reduction: bitwise at any rank count";
  auto kv_ar = kv;
  kv_ar["reduction"] = "allreduce";
  const TrainRun aw = train(world, kv_ar), as = train(self, kv_ar);
  EXPECT_LT((aw.x - as.x).norm() / as.x.norm(), 1e-10);

  std::string ckpt = "test_compress_powersgd.ckpt.h5";
  world.broadcast(ckpt);
  auto kv16 = kv;
  kv16["rounds"] = "16";
  kv16["eval-every"] = "4";
  kv16["wire-precision"] = "float32";
  const TrainRun full = train(world, kv16);
  auto first = trainer_options_from(
      Config::from_map(train_options(), {{"rounds", "10"}, {"eval-every", "4"}}));
  first.checkpoint_every = 6;
  first.checkpoint_path = ckpt;
  train(world, kv16, first);
  auto second = trainer_options_from(
      Config::from_map(train_options(), {{"rounds", "16"}, {"eval-every", "4"}}));
  second.resume_path = ckpt;
  const TrainRun resumed = train(world, kv16, second);
  EXPECT_EQ((resumed.x - full.x).norm(), 0.0);
  world.barrier();
  if (world.is_root()) std::filesystem::remove(ckpt);
}
