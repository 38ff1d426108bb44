// The library without the command line: a method built from its typed Options alone runs the
// same trajectory as the one the CLI builds from config strings; a user compressor added to the
// registry works with EF21 exactly like the built-in it wraps; callbacks see the model and can
// stop a run on every rank after the same round; Trainer::restore() continues a run bit for bit.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>

#include "distopt/comm/communicator.hpp"
#include "distopt/compress/compressor_registry.hpp"
#include "distopt/compress/top_k.hpp"
#include "distopt/core/error.hpp"
#include "distopt/dataparallel/gradient_descent.hpp"
#include "distopt/method/agent_weights.hpp"
#include "distopt/method/trainer.hpp"
#include "distopt/model/objective.hpp"
#include "distopt/run/method_registry.hpp"
#include "distopt/run/options.hpp"
#include "test_local_data.hpp"

using namespace distopt;

namespace {

constexpr Index kWorkers = 6;
constexpr Index kRows = 30;  // per worker
constexpr Index kDim = 10;

LocalData make_local(const Placement& pl) {
  return test::local_data_from_rows(pl, kRows, kDim, Task::kBinary, 2,
                                    [](Index r, double* a, double& y) {
                                      test::heterogeneous_logistic_row(r, kRows, kDim, a, y);
                                    });
}

/// Everything a run refers to, built without any Config.
struct RunParts {
  explicit RunParts(Communicator& comm)
      : pl(kWorkers, comm.size(), comm.rank()), data(make_local(pl)) {
    Regularization reg;
    reg.l2 = 0.01;
    obj = make_objective("logistic", kDim, 2, Task::kBinary, reg);
    ctx = std::make_unique<RunContext>(RunContext{comm, *obj, data, pl, 7, Reduction::kOrdered,
                                                  agent_weights(data, Weighting::kSamples)});
  }
  Placement pl;
  LocalData data;
  std::unique_ptr<Objective> obj;
  std::unique_ptr<RunContext> ctx;
};

Vector run(Communicator& comm, Algorithm& algo, RunParts& s, std::int64_t rounds) {
  TrainerOptions t;
  t.rounds = rounds;
  t.eval_every = rounds;
  Trainer trainer(*s.ctx, algo, t);
  trainer.run();
  (void)comm;
  return algo.model();
}

/// A compressor defined outside the library: Top-k under another name, so its trajectory must
/// equal the built-in's bit for bit.
class UserTopK : public TopK {
 public:
  UserTopK(Index dim, Index k, WirePrecision p) : TopK(dim, k, p), k_(k) {}
  std::string name() const override { return "user-topk:" + std::to_string(k_); }

 private:
  Index k_;
};

void register_user_topk() {
  if (compressor_registry().find("user-topk")) return;
  CompressorKind kind;
  kind.make = [](const CompressorArgs& a) -> std::unique_ptr<Compressor> {
    return std::make_unique<UserTopK>(a.dim, a.count_or_fraction(), a.precision);
  };
  compressor_registry().add({"user-topk", "user-topk:<k>", "Top-k, registered by a test", kind});
}

}  // namespace

TEST(LibraryApi, GradientDescentFromTypedOptionsEqualsTheConfiguredOne) {
  auto comm = Communicator::world();
  GradientDescentOptions o;
  o.lr.value = 0.5;
  o.uplink.compressor = "topk:3";
  o.uplink.feedback = "ef21";
  RunParts a(comm);
  GradientDescent typed(*a.ctx, o);
  const Vector x_typed = run(comm, typed, a, 25);

  const Config cfg = Config::from_map(
      train_options(),
      {{"algorithm", "gd"}, {"lr", "0.5"}, {"compressor", "topk:3"}, {"feedback", "ef21"}});
  RunParts b(comm);
  auto configured = make_algorithm(cfg, *b.ctx);
  const Vector x_cfg = run(comm, *configured, b, 25);
  ASSERT_EQ(x_typed.size(), kDim);
  EXPECT_GT(x_typed.norm(), 0.0);
  EXPECT_EQ((x_typed - x_cfg).cwiseAbs().maxCoeff(), 0.0)
      << "typed options and config strings must agree";
}

TEST(LibraryApi, OptionsValidationNamesTheKey) {
  auto key_of = [](const GradientDescentOptions& o) {
    try {
      o.validate();
    } catch (const ConfigError& e) {
      return e.key();
    }
    return std::string("none");
  };
  GradientDescentOptions o;
  EXPECT_EQ(key_of(o), "none");
  o.lr.value = -1;
  EXPECT_EQ(key_of(o), "lr");
  o = {};
  o.stochastic = true;  // sgd needs a batch size
  EXPECT_EQ(key_of(o), "batch-size");
  o = {};
  o.uplink.feedback = "ef99";
  EXPECT_EQ(key_of(o), "feedback");
  o = {};
  o.uplink.econtrol_eta = -0.5;
  EXPECT_EQ(key_of(o), "econtrol-eta");
  o = {};
  o.lr.theory = true;
  o.lr.factor = 0;
  EXPECT_EQ(key_of(o), "lr-factor");
}

TEST(LibraryApi, UserCompressorWithEf21MatchesTheBuiltInBitForBit) {
  auto comm = Communicator::world();
  register_user_topk();
  EXPECT_NE(compressor_registry().known().find("user-topk:<k>"), std::string::npos);
  GradientDescentOptions o;
  o.lr.value = 0.5;
  o.uplink.feedback = "ef21";
  o.uplink.compressor = "topk:2";
  RunParts a(comm);
  GradientDescent builtin(*a.ctx, o);
  const Vector x_builtin = run(comm, builtin, a, 30);
  const auto bytes_builtin = comm.traffic().local_total().bytes_up;

  comm.traffic().restore({}, 0, 0);
  o.uplink.compressor = "user-topk:2";
  RunParts b(comm);
  GradientDescent user(*b.ctx, o);
  const Vector x_user = run(comm, user, b, 30);
  EXPECT_EQ((x_user - x_builtin).cwiseAbs().maxCoeff(), 0.0);
  EXPECT_EQ(comm.traffic().local_total().bytes_up, bytes_builtin)
      << "same message format, same bytes";

  // A bad parameter of the user's compressor is reported like a built-in's, naming the option.
  o.uplink.compressor = "user-topk:0";
  RunParts c(comm);
  bool named = false;
  try {
    GradientDescent bad(*c.ctx, o);
  } catch (const ConfigError& e) {
    named = e.key() == "compressor";
  }
  EXPECT_TRUE(named);
}

namespace {

/// Stops the run once `round` is reached, asked on rank 0 only; records the model it saw.
class StopAt : public TrainerCallback {
 public:
  StopAt(std::int64_t round, bool ask) : round_(round), ask_(ask) {}
  bool should_stop(const EvaluationPoint& p) override {
    last_round = p.round;
    seen = p.model;
    EXPECT_EQ(p.row.get("round"), static_cast<double>(p.round));
    return ask_ && p.round >= round_;
  }
  std::int64_t last_round = -1;
  Vector seen;

 private:
  std::int64_t round_;
  bool ask_;
};

}  // namespace

TEST(LibraryApi, CallbackStopsEveryRankAfterTheSameRound) {
  auto comm = Communicator::world();
  GradientDescentOptions o;
  o.lr.value = 0.5;
  for (const std::int64_t at : {0, 7}) {
    RunParts s(comm);
    GradientDescent gd(*s.ctx, o);
    TrainerOptions t;
    t.rounds = 50;
    Trainer trainer(*s.ctx, gd, t);
    StopAt cb(at, comm.is_root());  // only rank 0 asks: the vote must stop the others too
    trainer.add_callback(&cb);
    const Summary sum = trainer.run();
    const std::int64_t expected = at == 0 ? 1 : at;  // a stop asked at round 0 ends after round 1
    EXPECT_EQ(sum.termination, Termination::kCallback);
    EXPECT_EQ(sum.rounds_done, expected);
    EXPECT_EQ(cb.last_round, expected);
    EXPECT_EQ((cb.seen - gd.model()).norm(), 0.0) << "the callback sees the model being evaluated";
    EXPECT_EQ(trainer.log().rows(), static_cast<std::size_t>(expected + 1));
  }
}

TEST(LibraryApi, RestoreThenRunEqualsTheUninterruptedRun) {
  auto comm = Communicator::world();
  std::string ckpt = "test_library_api_restore.ckpt.h5";
  comm.broadcast(ckpt);
  GradientDescentOptions o;
  o.stochastic = true;
  o.batch_size = 5;
  o.lr.value = 0.3;
  o.uplink.compressor = "randk:3";
  o.uplink.feedback = "ef21";

  comm.traffic().restore({}, 0, 0);  // each run counts its own traffic
  RunParts full_s(comm);
  GradientDescent full(*full_s.ctx, o);
  TrainerOptions t;
  t.rounds = 16;
  t.eval_every = 4;
  Trainer full_t(*full_s.ctx, full, t);
  full_t.run();

  comm.traffic().restore({}, 0, 0);
  RunParts first_s(comm);
  GradientDescent first(*first_s.ctx, o);
  TrainerOptions t1 = t;
  t1.rounds = 10;
  t1.checkpoint_every = 8;
  t1.checkpoint_path = ckpt;
  Trainer(*first_s.ctx, first, t1).run();

  comm.traffic().restore({}, 0, 0);
  RunParts second_s(comm);
  GradientDescent second(*second_s.ctx, o);
  Trainer second_t(*second_s.ctx, second, t);
  second_t.restore(ckpt);
  const Summary s2 = second_t.run();
  EXPECT_EQ(s2.rounds_done, 16);
  EXPECT_EQ((second.model() - full.model()).cwiseAbs().maxCoeff(), 0.0);
  EXPECT_EQ(second_t.log().column("loss"), full_t.log().column("loss"));
  EXPECT_EQ(second_t.log().column("bytes_up"), full_t.log().column("bytes_up"));
  comm.barrier();
  if (comm.is_root()) std::filesystem::remove(ckpt);
}
