// Downlink compression (--compressor-down) with EF21-P primal error feedback
// (compress/downlink.hpp; Gruntkowska, Sokolov, Richtárik, arXiv 2209.15218), through gd, fedavg
// and the Trainer, on the heterogeneous logistic set-up of test_compress_ef.cpp (20 workers,
// contiguous split, d = 20) made strongly convex with l2 = 0.1: gd with a Top-k downlink still
// converges to the optimum and counts exactly rounds × workers × the Top-k message;
// --compressor-down none changes nothing; the same bits at any rank count; fedavg's downlink bytes
// per round; resume; option validation.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "distopt/comm/communicator.hpp"
#include "distopt/compress/downlink.hpp"
#include "distopt/compress/top_k.hpp"
#include "distopt/core/error.hpp"
#include "distopt/core/random.hpp"
#include "distopt/data/local_data.hpp"
#include "distopt/method/algorithm.hpp"
#include "distopt/method/trainer.hpp"
#include "distopt/model/objective.hpp"
#include "distopt/run/options.hpp"
#include "distopt/run/trainer_config.hpp"
#include "test_local_data.hpp"

using namespace distopt;

namespace {

constexpr Index kWorkers = 20;
constexpr Index kRows = 25;  // per worker
constexpr Index kDim = 20;
constexpr double kTopkEntryBytes = 4 + 8;  // Top-k at float64: a 4-byte index and a value per entry

LocalData make_local(const Placement& pl) {
  return test::local_data_from_rows(pl, kRows, kDim, Task::kBinary, 2,
                                    [](Index r, double* a, double& y) {
                                      test::heterogeneous_logistic_row(r, kRows, kDim, a, y);
                                    });
}

Config make_config(std::map<std::string, std::string> kv) {
  kv.emplace("algorithm", "gd");
  kv.emplace("agents", std::to_string(kWorkers));
  kv.emplace("l2", "0.1");
  kv.emplace("reduction", "ordered");
  kv.emplace("lr", "0.5");
  return Config::from_map(train_options(), kv);
}

struct TrainRun {
  Vector x;
  MetricLog log;
  Summary summary;
};

struct RunSetup : test::LogisticRunSetup {
  RunSetup(Communicator& comm, const Config& cfg)
      : LogisticRunSetup(comm, cfg, kWorkers, kDim, make_local) {}
};

TrainRun train(Communicator& comm, const Config& cfg, TrainerOptions topt) {
  comm.traffic().restore({}, 0, 0);  // each run counts its own traffic
  RunSetup s(comm, cfg);
  auto algo = make_algorithm(s.config, *s.ctx);
  Trainer t(*s.ctx, *algo, std::move(topt));
  TrainRun r;
  r.summary = t.run();
  r.x = algo->model();
  r.log = t.log();
  return r;
}

TrainRun train(Communicator& comm, const Config& cfg) {
  return train(comm, cfg, trainer_options_from(cfg));
}

double final_gns(const TrainRun& r) {
  return r.summary.final_row.get("grad_norm_sq");
}

}  // namespace

TEST(Downlink, GdWithTopkDownlinkConvergesAndCountsExactBytes) {
  auto comm = Communicator::world();
  const Index k = 4;
  const auto rounds = 600;
  auto cfg = make_config(
      {{"compressor-down", "topk:4"}, {"rounds", std::to_string(rounds)}, {"eval-every", "50"}});
  const TrainRun down = train(comm, cfg);
  auto dense_cfg = make_config({{"rounds", std::to_string(rounds)}, {"eval-every", "50"}});
  const TrainRun dense = train(comm, dense_cfg);
  if (comm.is_root()) {
    std::printf("  dense downlink: ||grad f||^2 %.3e   topk:4 downlink (EF21-P): %.3e\n",
                final_gns(dense), final_gns(down));
  }
  EXPECT_LT(final_gns(down), 1e-12) << "EF21-P with a Top-k downlink converges to the optimum";
  EXPECT_LT((down.x - dense.x).norm(), 1e-5 * dense.x.norm()) << "the same optimum as dense gd";
  auto early = [&](std::map<std::string, std::string> kv) {
    kv.emplace("rounds", "5");
    kv.emplace("eval-every", "5");
    return train(comm, make_config(kv)).x;
  };
  EXPECT_GT((early({{"compressor-down", "topk:4"}}) - early({})).norm(), 0.0)
      << "workers compute their gradients at w, not x";
  // Logical downlink: one Top-k message per worker per round; the uplink is dense (d values).
  TopK topk(kDim, k, WirePrecision::kFloat64);
  ASSERT_EQ(static_cast<double>(topk.message_bytes()), k * kTopkEntryBytes);
  EXPECT_EQ(down.summary.rounds_done, rounds);
  EXPECT_EQ(down.log.column("bytes_down").back(),
            static_cast<double>(rounds) * kWorkers * static_cast<double>(topk.message_bytes()));
  EXPECT_EQ(down.log.column("bytes_up").back(), dense.log.column("bytes_up").back());
  EXPECT_EQ(dense.log.column("bytes_down").back(),
            static_cast<double>(rounds) * kWorkers * kDim * 8);
}

TEST(Downlink, NoneIsExactlyTheUncompressedRun) {
  auto comm = Communicator::world();
  for (const char* algo : {"gd", "sgd", "fedavg", "fedprox", "scaffold"}) {
    std::map<std::string, std::string> kv = {{"algorithm", algo},      {"rounds", "12"},
                                             {"eval-every", "4"},      {"batch-size", "5"},
                                             {"local-steps", "3"},     {"participation", "0.5"},
                                             {"compressor", "topk:3"}, {"feedback", "ef21"}};
    if (std::string(algo) != "gd" && std::string(algo) != "sgd") kv["lr"] = "0.1";
    const TrainRun without = train(comm, make_config(kv));
    kv["compressor-down"] = "none";
    const TrainRun with_none = train(comm, make_config(kv));
    EXPECT_EQ((without.x - with_none.x).norm(), 0.0) << algo;
    EXPECT_EQ(without.log.column("bytes_down"), with_none.log.column("bytes_down")) << algo;
    EXPECT_EQ(without.log.column("bytes_logical"), with_none.log.column("bytes_logical")) << algo;
  }
}

TEST(Downlink, BitwiseIdenticalAtAnyRankCount) {
  auto world = Communicator::world();
  auto self = Communicator::self();
  for (const char* spec : {"gd:topk:3", "gd:randk:5", "gd:qsgd:4", "gd:sign", "sgd:natural",
                           "fedavg:topk:2", "fedprox:randk:4"}) {
    const std::string s(spec);
    const auto colon = s.find(':');
    const std::string algo = s.substr(0, colon);
    std::map<std::string, std::string> kv = {
        {"algorithm", algo},      {"compressor-down", s.substr(colon + 1)},
        {"rounds", "20"},         {"eval-every", "5"},
        {"batch-size", "5"},      {"local-steps", "3"},
        {"participation", "0.5"}, {"compressor", "topk:3"},
        {"feedback", "ef21"}};
    if (algo != "gd" && algo != "sgd") kv["lr"] = "0.1";
    const auto cfg = make_config(kv);
    const TrainRun rw = train(world, cfg);
    const TrainRun rs = train(self, cfg);  // all 20 workers on this rank
    EXPECT_EQ((rw.x - rs.x).norm(), 0.0) << spec << ": bitwise identical at any rank count";
    EXPECT_EQ(rw.log.column("bytes_logical"), rs.log.column("bytes_logical")) << spec;
  }
}

TEST(Downlink, FedAvgDownlinkBytesPerRound) {
  auto comm = Communicator::world();
  const Index k = 3;
  // Half the clients train per round; the downlink message goes to all N, which track w.
  auto cfg = make_config({{"algorithm", "fedavg"},
                          {"compressor-down", "topk:3"},
                          {"lr", "0.2"},
                          {"local-steps", "4"},
                          {"participation", "0.5"},
                          {"rounds", "40"},
                          {"eval-every", "1"}});
  const TrainRun r = train(comm, cfg);
  const double per_round = static_cast<double>(kWorkers) * static_cast<double>(k) * kTopkEntryBytes;
  const auto round = r.log.column("round");
  const auto per = r.log.column("bytes_down_round");
  ASSERT_EQ(round.size(), 41u);  // rows at rounds 0..40
  for (std::size_t i = 1; i < per.size(); ++i) EXPECT_EQ(per[i], per_round) << "round " << round[i];
  EXPECT_EQ(r.log.column("bytes_down").back(), 40 * per_round);
  const auto gns = r.log.column("grad_norm_sq");
  EXPECT_TRUE(std::isfinite(gns.back()));
  EXPECT_LT(gns.back(), 0.1 * gns.front()) << "fedavg with a Top-k downlink makes progress";
}

TEST(Downlink, ResumeIsExact) {
  auto world = Communicator::world();
  std::string ckpt = "test_compress_downlink_resume.ckpt.h5";
  world.broadcast(ckpt);
  for (const char* algo : {"gd", "fedavg"}) {
    std::map<std::string, std::string> kv = {
        {"algorithm", algo},      {"compressor-down", "randk:5"},
        {"compressor", "topk:3"}, {"feedback", "ef21"},
        {"rounds", "16"},         {"eval-every", "4"},
        {"local-steps", "3"},     {"participation", "0.5"}};
    if (std::string(algo) == "fedavg") kv["lr"] = "0.1";
    const auto cfg = make_config(kv);
    const TrainRun full = train(world, cfg);
    auto first = trainer_options_from(cfg);
    first.rounds = 10;
    first.checkpoint_every = 6;
    first.checkpoint_path = ckpt;
    train(world, cfg, first);
    auto second = trainer_options_from(cfg);
    second.resume_path = ckpt;
    const TrainRun resumed = train(world, cfg, second);
    EXPECT_EQ((resumed.x - full.x).norm(), 0.0) << algo;
    EXPECT_EQ(resumed.log.column("bytes_logical"), full.log.column("bytes_logical")) << algo;
    world.barrier();
    if (world.is_root()) std::filesystem::remove(ckpt);
  }
}

TEST(Downlink, BadSpecsAreConfigErrorsNamingCompressorDown) {
  auto comm = Communicator::world();
  for (const char* algo : {"gd", "fedavg"}) {
    for (const char* spec :
         {"topk:21", "topk:0", "gzip", "qsgd:0", "sign:2", "powersgd:1", "powersgd:2"}) {
      auto cfg = make_config({{"algorithm", algo}, {"compressor-down", spec}});
      RunSetup s(comm, cfg);
      try {
        make_algorithm(s.config, *s.ctx);
        ADD_FAILURE() << algo << " accepted --compressor-down " << spec;
      } catch (const ConfigError& e) {
        EXPECT_EQ(e.key(), "compressor-down") << e.what();
      }
    }
  }
}
