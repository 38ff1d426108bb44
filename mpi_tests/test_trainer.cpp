// Distributed gradient descent end to end through the Trainer: convergence to the centralised
// optimum of a strongly convex logistic problem, agreement across rank counts, checkpoint/resume,
// config parsing rules and read tracking, the callbacks' round hook and metric-name checks, the
// table's columns and the progress line.
#include <gtest/gtest.h>

#include <Eigen/Cholesky>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>

#include "distopt/comm/communicator.hpp"
#include "distopt/core/error.hpp"
#include "distopt/core/random.hpp"
#include "distopt/data/local_data.hpp"
#include "distopt/method/algorithm.hpp"
#include "distopt/method/trainer.hpp"
#include "distopt/model/objective.hpp"
#include "distopt/run/method_registry.hpp"
#include "distopt/run/options.hpp"
#include "distopt/run/progress.hpp"
#include "distopt/run/progress_line.hpp"
#include "distopt/run/trainer_config.hpp"
#include "test_local_data.hpp"

using namespace distopt;

namespace {

constexpr Index kAgents = 8;
constexpr Index kRowsPerAgent = 150;
constexpr Index kDim = 12;

/// Row r of a planted binary logistic problem, generated from its own stream so that any rank can
/// make any row.
void make_row(Index r, double* a, double& y) {
  RandomStream s(99, static_cast<std::uint64_t>(r), 0, Purpose::kData);
  Vector w(kDim);
  RandomStream ws(99, 1u << 30, 0, Purpose::kData);
  for (Index j = 0; j < kDim; ++j) w[j] = ws.normal();
  double z = 0;
  for (Index j = 0; j < kDim; ++j) {
    a[j] = s.normal() * (1.0 + 0.3 * static_cast<double>(j % 3));
    z += a[j] * w[j];
  }
  y = s.uniform() < 1.0 / (1.0 + std::exp(-z)) ? 1.0 : -1.0;
}

/// The rows of `placement`'s local agents, agent by agent (agent a has rows a*R .. a*R+R-1).
LocalData make_local(const Placement& pl) {
  return test::local_data_from_rows(pl, kRowsPerAgent, kDim, Task::kBinary, 2, make_row);
}

Config make_config(std::map<std::string, std::string> kv) {
  kv.emplace("algorithm", "gd");
  kv.emplace("agents", std::to_string(kAgents));
  return Config::from_map(train_options(), kv);
}

struct TrainRun {
  Vector x;
  MetricLog log;
  Summary summary;
};

TrainRun train(Communicator& comm, const Config& cfg, TrainerOptions topt,
               const std::vector<TrainerCallback*>& callbacks = {}) {
  const Placement pl(kAgents, comm.size(), comm.rank());
  LocalData data = make_local(pl);
  Regularization reg;
  reg.l2 = cfg.get_double("l2");
  auto obj = make_objective("logistic", kDim, 2, Task::kBinary, reg);
  std::vector<double> w(kAgents, 1.0 / kAgents);
  RunContext ctx{
      comm, *obj, data, pl, cfg.get_uint("seed"), reduction_from_string(cfg.get("reduction")), w};
  auto algo = make_algorithm(cfg, ctx);
  Trainer t(ctx, *algo, std::move(topt));
  for (auto* cb : callbacks) t.add_callback(cb);
  TrainRun r;
  r.summary = t.run();
  r.x = algo->model();
  r.log = t.log();
  return r;
}

/// Newton's method on the full problem (every row, one process): the centralised solve.
Vector newton_solve(double l2) {
  Placement all(kAgents, 1, 0);
  LocalData d = make_local(all);
  Regularization reg;
  reg.l2 = l2;
  auto obj = make_objective("logistic", kDim, 2, Task::kBinary, reg);
  Vector x = Vector::Zero(kDim), g(kDim), hv(kDim);
  for (int it = 0; it < 50; ++it) {
    obj->loss_grad(x, d.train.all(), g);
    if (g.squaredNorm() < 1e-30) break;
    Matrix H(kDim, kDim);
    for (Index j = 0; j < kDim; ++j) {
      obj->hvp(x, Vector::Unit(kDim, j), d.train.all(), hv);
      H.col(j) = hv;
    }
    x -= H.ldlt().solve(g);
  }
  return x;
}

}  // namespace

TEST(GradientDescent, ReachesCentralisedOptimumOfStronglyConvexLogistic) {
  auto comm = Communicator::world();
  const double l2 = 0.05;
  auto cfg = make_config({{"l2", "0.05"}, {"lr", "2.0"}, {"rounds", "400"}, {"eval-every", "50"}});
  auto topt = trainer_options_from(cfg);
  TrainRun r = train(comm, cfg, topt);
  const Vector xs = newton_solve(l2);
  EXPECT_LT(r.summary.final_row.get("grad_norm_sq"), 1e-12);
  EXPECT_LT((r.x - xs).norm() / xs.norm(), 1e-6);
  // The metric stream is complete: rounds 0, 50, ..., 400.
  EXPECT_EQ(r.log.rows(), 9u);
  EXPECT_EQ(r.log.column("round").back(), 400);
  EXPECT_EQ(r.log.column("grad_evals").back(), 400.0 * kAgents);
  // Logical traffic: each round every agent receives and sends one dense d-vector.
  EXPECT_EQ(r.log.column("bytes_logical").back(), 400.0 * kAgents * 2 * kDim * 8);
}

TEST(GradientDescent, SameResultAtAnyRankCount) {
  auto world = Communicator::world();
  auto self = Communicator::self();
  for (const char* red : {"allreduce", "ordered"}) {
    auto cfg = make_config({{"l2", "0.01"},
                            {"lr", "1.0"},
                            {"rounds", "60"},
                            {"eval-every", "60"},
                            {"reduction", red}});
    TrainRun rw = train(world, cfg, trainer_options_from(cfg));
    TrainRun rs = train(self, cfg, trainer_options_from(cfg));  // all agents on this rank alone
    const double rel = (rw.x - rs.x).norm() / rs.x.norm();
    if (std::string(red) == "ordered") {
      EXPECT_EQ(rel, 0.0) << "ordered reduction must be bitwise identical at any rank count";
    } else {
      EXPECT_LT(rel, 1e-10) << red;
    }
  }
}

TEST(GradientDescent, SgdMinibatchesDoNotDependOnPlacement) {
  auto world = Communicator::world();
  auto self = Communicator::self();
  auto cfg = make_config({{"algorithm", "sgd"},
                          {"batch-size", "16"},
                          {"lr", "0.5"},
                          {"rounds", "30"},
                          {"eval-every", "30"},
                          {"reduction", "ordered"}});
  TrainRun rw = train(world, cfg, trainer_options_from(cfg));
  TrainRun rs = train(self, cfg, trainer_options_from(cfg));
  EXPECT_EQ((rw.x - rs.x).norm(), 0.0);
  EXPECT_LT(rw.summary.final_row.get("loss"), std::log(2.0));
}

TEST(GradientDescent, ResumeEqualsUninterruptedRun) {
  auto comm = Communicator::world();
  std::string ckpt = "test_trainer_resume.ckpt.h5";
  comm.broadcast(ckpt);
  auto cfg = make_config({{"algorithm", "sgd"},
                          {"batch-size", "8"},
                          {"lr", "0.3"},
                          {"rounds", "20"},
                          {"eval-every", "5"}});
  TrainRun full = train(comm, cfg, trainer_options_from(cfg));

  auto first = trainer_options_from(cfg);
  first.rounds = 12;
  first.checkpoint_every = 6;  // checkpoints at rounds 6 (and 12 is the end: none)
  first.checkpoint_path = ckpt;
  train(comm, cfg, first);

  auto second = trainer_options_from(cfg);
  second.resume_path = ckpt;
  TrainRun resumed = train(comm, cfg, second);
  ASSERT_EQ(resumed.x.size(), full.x.size());
  EXPECT_EQ((resumed.x - full.x).norm(), 0.0) << "resume must continue bit for bit";
  EXPECT_EQ(resumed.log.rows(), full.log.rows());
  EXPECT_EQ(resumed.log.column("grad_evals"), full.log.column("grad_evals"));
  EXPECT_EQ(resumed.log.column("loss"), full.log.column("loss"));
  comm.barrier();
  if (comm.is_root()) std::filesystem::remove(ckpt);
}

TEST(Trainer, TargetMetricStopsAndIsRecorded) {
  auto comm = Communicator::world();
  auto cfg = make_config({{"l2", "0.05"},
                          {"lr", "2.0"},
                          {"rounds", "1000"},
                          {"eval-every", "1"},
                          {"target-metric", "grad_norm_sq<1e-6"}});
  TrainRun r = train(comm, cfg, trainer_options_from(cfg));
  ASSERT_TRUE(r.summary.target_round.has_value());
  EXPECT_EQ(r.summary.termination, Termination::kTarget);
  EXPECT_LT(r.summary.final_row.get("grad_norm_sq"), 1e-6);
  const auto& g = r.log.column("grad_norm_sq");
  ASSERT_GE(g.size(), 2u);
  EXPECT_GE(g[g.size() - 2], 1e-6) << "stopped at the first evaluation below the target";
  EXPECT_EQ(static_cast<double>(*r.summary.target_round), r.log.column("round").back());
}

TEST(Trainer, NonFiniteLossEndsTheRunAsDiverged) {
  // A step size far past 2/L: the iterates overflow within a few rounds and the loss becomes
  // inf or NaN; the run must stop there (every rank after the same round), not spend its budget.
  auto comm = Communicator::world();
  auto cfg = make_config({{"lr", "1e308"}, {"rounds", "50"}, {"eval-every", "1"}});
  TrainRun r = train(comm, cfg, trainer_options_from(cfg));
  EXPECT_EQ(r.summary.termination, Termination::kDiverged);
  EXPECT_STREQ(to_string(r.summary.termination), "diverged");
  EXPECT_LT(r.summary.rounds_done, 50);
  EXPECT_FALSE(std::isfinite(r.summary.final_row.get("loss")));
  const auto& loss = r.log.column("loss");
  ASSERT_FALSE(loss.empty());
  for (std::size_t i = 0; i + 1 < loss.size(); ++i) {
    EXPECT_TRUE(std::isfinite(loss[i])) << "stopped at the first non-finite loss";
  }
  EXPECT_EQ(static_cast<double>(r.summary.rounds_done), r.log.column("round").back());
}

TEST(Trainer, CheckpointStoresTheFingerprint) {
  auto comm = Communicator::world();
  std::string ckpt = "test_trainer_fingerprint.ckpt.h5";
  comm.broadcast(ckpt);
  auto cfg = make_config({{"rounds", "4"}});
  auto topt = trainer_options_from(cfg);
  topt.checkpoint_every = 2;
  topt.checkpoint_path = ckpt;
  topt.fingerprint = {{"lr", "0.1"}, {"agents", "8"}, {"empty", ""}};
  train(comm, cfg, topt);
  bool same = false;
  if (comm.is_root()) same = checkpoint_fingerprint(ckpt) == topt.fingerprint;
  EXPECT_TRUE(comm.broadcast_value(static_cast<std::int64_t>(same)) != 0);
  comm.barrier();
  if (comm.is_root()) std::filesystem::remove(ckpt);
}

TEST(Config, CommandLineWinsOverIniAndErrorsNameTheKey) {
  auto comm = Communicator::world();
  std::string ini = "test_trainer_" + std::to_string(comm.rank()) + ".ini";
  {
    std::FILE* f = std::fopen(ini.c_str(), "w");
    std::fputs("lr = 0.25\nrounds = 7\n# comment\n", f);
    std::fclose(f);
  }
  auto c = Config::parse(train_options(), {"--config", ini, "--lr", "0.5"});
  EXPECT_EQ(c.get_double("lr"), 0.5);
  EXPECT_EQ(c.get_int("rounds"), 7);
  EXPECT_TRUE(c.given("rounds"));
  EXPECT_FALSE(c.given("seed"));
  auto msg = [](const std::function<void()>& f) {
    try {
      f();
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(msg([] {
              Config::parse(train_options(), {"--bogus", "1"});
            }),
            "--bogus: unknown option");
  EXPECT_EQ(msg([] {
              Config::parse(train_options(), {"--lr", "abc"}).get_positive("lr");
            }),
            "--lr: expected a number, got 'abc'");
  EXPECT_EQ(msg([] {
              Config::parse(train_options(), {"--lr", "-2"}).get_positive("lr");
            }),
            "--lr: must be positive (got -2)");
  EXPECT_EQ(msg([] {
              Config::parse(train_options(), {"--rounds", "2.5"}).get_int("rounds");
            }),
            "--rounds: expected an integer, got '2.5'");
  EXPECT_EQ(msg([] { TargetMetric::parse("loss=3"); }),
            "--target-metric: expected NAME<VALUE or NAME>VALUE, got 'loss=3'");
  std::remove(ini.c_str());
}

TEST(Config, RecordsWhichGivenKeysWereRead) {
  auto c = Config::parse(train_options(), {"--lr", "0.5", "--prox-mu", "0.1", "--rounds", "3"});
  EXPECT_EQ(c.given_but_unread(), (std::vector<std::string>{"lr", "prox-mu", "rounds"}));
  c.get_double("lr");
  c.get_int_at_least("rounds", 0);
  c.get_uint("seed");  // a default: read, but never "given"
  EXPECT_TRUE(c.was_read("seed"));
  EXPECT_EQ(c.given_but_unread(), (std::vector<std::string>{"prox-mu"}));
  {
    // A copy carries the reads so far; its own reads stay its own (validation without use).
    const Config copy = c;
    copy.get_double("prox-mu");
    EXPECT_TRUE(copy.given_but_unread().empty());
  }
  EXPECT_EQ(c.given_but_unread(), (std::vector<std::string>{"prox-mu"}));
  EXPECT_TRUE(c.has("prox-mu"));  // has() and given() are not reads
  EXPECT_TRUE(c.given("prox-mu"));
  EXPECT_FALSE(c.was_read("prox-mu"));
  c.mark_read("prox-mu");
  EXPECT_TRUE(c.given_but_unread().empty());
}

namespace {

/// Counts the Trainer's calls; optionally rejects the first row's names.
struct CountingCallback : TrainerCallback {
  std::vector<std::int64_t> rounds_ended;
  std::vector<double> walls;
  int evaluations = 0;
  int checks = 0;
  std::string reject;  // a metric name whose presence is rejected (empty: none)
  void on_evaluation(const MetricRow&) override { ++evaluations; }
  void on_round_end(std::int64_t round, double wall) override {
    rounds_ended.push_back(round);
    walls.push_back(wall);
  }
  void check_metric_names(const MetricRow& row) override {
    ++checks;
    if (!reject.empty() && row.has(reject)) throw ConfigError("show", "rejected " + reject);
  }
};

/// The message of the CollectiveInputError `f` throws (on every rank), or "no error".
std::string collective_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const CollectiveInputError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST(Trainer, RoundEndHookSeesEveryRoundAndChangesNoResult) {
  auto comm = Communicator::world();
  auto cfg = make_config({{"l2", "0.05"},
                          {"lr", "1.0"},
                          {"rounds", "12"},
                          {"eval-every", "5"},
                          {"algorithm", "sgd"},
                          {"batch-size", "7"}});
  const TrainRun plain = train(comm, cfg, trainer_options_from(cfg));
  CountingCallback counter;
  // A progress line drawn at every round (no refresh limit) into a file, on every rank.
  std::FILE* sink = std::tmpfile();
  ASSERT_NE(sink, nullptr);
  std::string drawn;
  {
    ProgressLine line(sink, true, 12, "loss", 0.0);
    const TrainRun observed = train(comm, cfg, trainer_options_from(cfg), {&line, &counter});
    EXPECT_EQ(observed.x, plain.x) << "observing the rounds must not change the model";
    EXPECT_EQ(observed.log.column("loss"), plain.log.column("loss"));
  }
  std::rewind(sink);
  for (int ch; (ch = std::fgetc(sink)) != EOF;) drawn += static_cast<char>(ch);
  std::fclose(sink);
  std::vector<std::int64_t> all(12);
  for (int i = 0; i < 12; ++i) all[i] = i + 1;
  EXPECT_EQ(counter.rounds_ended, all);
  EXPECT_TRUE(std::is_sorted(counter.walls.begin(), counter.walls.end()));
  EXPECT_EQ(counter.checks, 1);
  EXPECT_EQ(counter.evaluations, 4);  // rounds 0, 5, 10, 12
  EXPECT_NE(drawn.find("\rround 1/12"), std::string::npos) << drawn;
  EXPECT_NE(drawn.find("rounds/s"), std::string::npos) << drawn;
  EXPECT_EQ(drawn.find("round 5/12"), std::string::npos) << "no line in a round that evaluated";
  // The destructor erased the last line: the output ends with spaces and a '\r'.
  ASSERT_FALSE(drawn.empty());
  EXPECT_EQ(drawn.back(), '\r');
  EXPECT_EQ(drawn.find('\n'), std::string::npos);
}

TEST(Trainer, UnknownTargetMetricOrShowIsRejectedBeforeTheFirstRound) {
  auto comm = Communicator::world();
  auto cfg = make_config({{"rounds", "50"}, {"target-metric", "dist_to_opt<1e-6"}});
  CountingCallback counter;
  const std::string msg =
      collective_error([&] { train(comm, cfg, trainer_options_from(cfg), {&counter}); });
  EXPECT_EQ(msg.rfind("--target-metric: 'dist_to_opt' is not a metric of method gd (available: "
                      "round, loss, grad_norm_sq",
                      0),
            0u)
      << msg;
  EXPECT_TRUE(counter.rounds_ended.empty()) << "no round may run";
  EXPECT_EQ(counter.evaluations, 0);

  // A callback's check: rejected on rank 0 only, the error is still every rank's.
  auto plain = make_config({{"rounds", "50"}});
  CountingCallback picky;
  if (comm.rank() == 0) picky.reject = "grad_evals";
  EXPECT_EQ(collective_error([&] { train(comm, plain, trainer_options_from(plain), {&picky}); }),
            "--show: rejected grad_evals");
  EXPECT_TRUE(picky.rounds_ended.empty());

  // TablePrinter checks --show names on every rank, printing or not.
  TablePrinter table(stdout, false, {"loss", "nosuch"});
  EXPECT_EQ(collective_error([&] {
              train(comm, plain, trainer_options_from(plain), {&table});
            }).rfind("--show: no metric 'nosuch' in this run (available: round, loss,", 0),
            0u);
}

TEST(TablePrinter, DefaultColumnsFitIn80AndShowAppends) {
  auto row_of = [](const std::vector<std::string>& names) {
    MetricRow r;
    for (const auto& n : names) r.set(n, 1.0);
    return r;
  };
  // Every default column present: the least important are dropped to fit.
  const MetricRow all =
      row_of({"round", "loss", "grad_norm_sq", "train_accuracy", "test_loss", "test_accuracy",
              "dist_to_opt", "consensus", "grad_evals", "bytes_logical", "bytes_mpi", "wall_time"});
  const auto cols = TablePrinter::columns_for(all, {});
  EXPECT_EQ(cols, (std::vector<std::string>{"round", "loss", "test_accuracy", "dist_to_opt",
                                            "bytes_logical", "wall_time"}));
  EXPECT_EQ(TablePrinter::columns_for(all, {"consensus", "loss", "bytes_mpi"}),
            (std::vector<std::string>{"round", "loss", "test_accuracy", "dist_to_opt",
                                      "bytes_logical", "wall_time", "consensus", "bytes_mpi"}));
  // Printed lines, with large values, stay within the width.
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  {
    TablePrinter t(f, true);
    MetricRow r;
    for (const auto& [n, v] : all.items()) r.set(n, -1.234567e-300);
    r.set("round", 999999);
    r.set("bytes_logical", 9.87e14);
    r.set("wall_time", 99999.99);
    r.set("test_accuracy", 0.5);
    t.on_evaluation(r);
  }
  std::rewind(f);
  char line[512];
  int lines = 0;
  while (std::fgets(line, sizeof line, f)) {
    ++lines;
    EXPECT_LE(std::strlen(line), static_cast<std::size_t>(TablePrinter::kDefaultWidth) + 1) << line;
  }
  std::fclose(f);
  EXPECT_EQ(lines, 2);
  EXPECT_EQ(split_names(" consensus, ,bytes_mpi ,"),
            (std::vector<std::string>{"consensus", "bytes_mpi"}));
}
