// The bilevel family through the command line's path (run_experiment with a Config):
// exact-hypergrad reaches ‖∇F‖² < 1e-10 by --target-metric on a small multitask problem with the
// same /model/x bitwise at any rank count (--reduction ordered: world against
// Communicator::self()), the result file holds /model/x and /model/lower, checkpoint + --resume
// equals the uninterrupted run, the Trainer skips the Evaluator for a method that evaluates
// itself, the config keys map onto the typed structs' defaults, and bad input names its key.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <string>

#include "distopt/bilevel/multitask.hpp"
#include "distopt/comm/communicator.hpp"
#include "distopt/core/error.hpp"
#include "distopt/io/hdf5.hpp"
#include "distopt/method/algorithm.hpp"
#include "distopt/method/trainer.hpp"
#include "distopt/run/bilevel_config.hpp"
#include "distopt/run/experiment.hpp"
#include "distopt/run/method_registry.hpp"
#include "distopt/run/options.hpp"
#include "test_bilevel_common.hpp"

using namespace distopt;

namespace {

// m = 8 tasks, p = 6, k = 2 (x of dimension 12), 40 + 40 rows per task, λ = 0.5, ρ = 0.05.
std::map<std::string, std::string> base_keys() {
  return {{"algorithm", "exact-hypergrad"},
          {"agents", "8"},
          {"multitask-features", "6"},
          {"multitask-rank", "2"},
          {"multitask-train-rows", "40"},
          {"multitask-val-rows", "40"},
          {"bilevel-lower-reg", "0.5"},
          {"bilevel-upper-reg", "0.05"},
          {"multitask-noise", "0.1"},
          {"lr", "1"},
          {"seed", "17"},
          {"reduction", "ordered"},
          {"log-format", "none"},
          {"output", "none"}};
}

Config make_config(std::map<std::string, std::string> extra) {
  auto kv = base_keys();
  for (auto& [k, v] : extra) kv[k] = v;
  return Config::from_map(train_options(), kv);
}

/// A name every rank of `comm` agrees on (rank 0's).
std::string shared_name(Communicator& comm, std::string name) {
  comm.broadcast(name);
  return name;
}

/// Expects run_experiment to fail with an input error whose message starts with "--key:".
void expect_input_error(Communicator& comm, const Config& cfg, const std::string& key) {
  try {
    run_experiment(comm, cfg);
    ADD_FAILURE() << "no error; expected one naming --" << key;
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("--" + key + ":", 0), 0u) << e.what();
  }
}

}  // namespace

TEST(BilevelCli, ExactHypergradReachesTargetWithTheSameModelAtAnyRankCount) {
  auto world = Communicator::world();
  auto self = Communicator::self();
  const Config cfg = make_config({{"rounds", "500"}, {"target-metric", "grad_norm_sq<1e-10"}});
  const ExperimentOutcome rw = run_experiment(world, cfg);
  const ExperimentOutcome rs = run_experiment(self, cfg);  // all 8 blocks on this rank alone
  for (const auto* r : {&rw, &rs}) {
    EXPECT_EQ(r->summary.termination, Termination::kTarget);
    EXPECT_LT(r->summary.final_row.get("grad_norm_sq"), 1e-10);
    EXPECT_LT(r->summary.rounds_done, 200) << "η = 1 needs about 60 steps on this problem";
    EXPECT_EQ(r->model.size(), 12);
    // The method evaluates itself: loss and grad_norm_sq are F(x) and ‖∇F(x)‖².
    EXPECT_EQ(r->summary.final_row.get("loss"), r->summary.final_row.get("upper_value"));
    EXPECT_EQ(r->summary.final_row.get("grad_norm_sq"),
              r->summary.final_row.get("hypergrad_norm_sq"));
    EXPECT_FALSE(r->summary.final_row.has("train_accuracy"));
  }
  EXPECT_EQ(rw.summary.rounds_done, rs.summary.rounds_done);
  ASSERT_EQ(rw.model.size(), rs.model.size());
  EXPECT_EQ((rw.model - rs.model).norm(), 0.0) << "ordered reduction: bitwise at any rank count";
  EXPECT_EQ(rw.log.column("loss"), rs.log.column("loss"));
  // F decreases from its initial value and every column the printers read is there.
  const auto& loss = rw.log.column("loss");
  EXPECT_LT(loss.back(), loss.front());
  EXPECT_EQ(rw.log.names()[0], "round");
  EXPECT_EQ(rw.log.names()[1], "loss");
  EXPECT_EQ(rw.log.names()[2], "grad_norm_sq");
}

TEST(BilevelCli, AllreduceAgreesToRoundOff) {
  auto world = Communicator::world();
  auto self = Communicator::self();
  const Config cfg = make_config({{"rounds", "40"}, {"reduction", "allreduce"}});
  const ExperimentOutcome rw = run_experiment(world, cfg);
  const ExperimentOutcome rs = run_experiment(self, cfg);
  EXPECT_LT((rw.model - rs.model).norm() / rs.model.norm(), 1e-12);
}

TEST(BilevelCli, ResultFileHoldsTheModelAndEveryBlocksLowerVariable) {
  auto comm = Communicator::world();
  const std::string out =
      shared_name(comm, "test_bilevel_cli_result_np" + std::to_string(comm.size()) + ".h5");
  // --overwrite: a file left by an interrupted earlier run of this test is replaced.
  const Config cfg =
      make_config({{"rounds", "20"}, {"eval-every", "5"}, {"output", out}, {"overwrite", "true"}});
  const ExperimentOutcome r = run_experiment(comm, cfg);
  EXPECT_EQ(r.output_path, out);
  if (comm.is_root()) {
    auto f = h5::File::open(out);
    const auto x = f.read_doubles("model/x");
    ASSERT_EQ(static_cast<Index>(x.size()), r.model.size());
    for (std::size_t j = 0; j < x.size(); ++j) EXPECT_EQ(x[j], r.model[static_cast<Index>(j)]);
    ASSERT_TRUE(f.is_array("model/lower"));
    const auto shape = f.array("model/lower").shape();
    ASSERT_EQ(shape.size(), 2u);
    EXPECT_EQ(shape[0], 8);  // m blocks
    EXPECT_EQ(shape[1], 2);  // k
    const auto lower = f.read_doubles("model/lower");
    double norm = 0;
    for (double v : lower) norm += v * v;
    EXPECT_GT(norm, 0) << "the heads are the lower solutions, not the zero start";
    const auto loss = f.read_doubles("metrics/loss");
    EXPECT_EQ(loss.size(), 5u);  // rounds 0, 5, 10, 15, 20
    std::filesystem::remove(out);
  }
  comm.barrier();
}

TEST(BilevelCli, ResumeEqualsUninterruptedRun) {
  auto comm = Communicator::world();
  const std::string ckpt =
      shared_name(comm, "test_bilevel_cli_resume_np" + std::to_string(comm.size()) + ".ckpt.h5");
  const Config full_cfg = make_config({{"rounds", "20"}, {"eval-every", "2"}});
  // A fresh communicator wrapper per run: traffic counters start at zero.
  auto c1 = Communicator::world(), c2 = Communicator::world(), c3 = Communicator::world();
  const ExperimentOutcome full = run_experiment(c1, full_cfg);

  // Interrupted: 12 rounds, a checkpoint at round 6; then resumed from it to round 20.
  run_experiment(c2, make_config({{"rounds", "12"},
                                  {"eval-every", "2"},
                                  {"checkpoint-every", "6"},
                                  {"checkpoint", ckpt},
                                  {"overwrite", "true"}}));
  const ExperimentOutcome resumed =
      run_experiment(c3, make_config({{"rounds", "20"}, {"eval-every", "2"}, {"resume", ckpt}}));
  ASSERT_EQ(resumed.model.size(), full.model.size());
  EXPECT_EQ((resumed.model - full.model).norm(), 0.0) << "resume must continue bit for bit";
  EXPECT_EQ(resumed.summary.rounds_done, 20);
  ASSERT_EQ(resumed.log.rows(), full.log.rows());
  for (const auto& name : full.log.names()) {
    // bytes_mpi counts what this process handed to MPI: the resumed run restores the
    // interrupted run's count, which includes the rounds after its checkpoint.
    // The phase times (time_*) are wall time too.
    if (name == "wall_time" || name == "bytes_mpi" || name.rfind("time_", 0) == 0) continue;
    EXPECT_EQ(resumed.log.column(name), full.log.column(name)) << name;
  }
  comm.barrier();
  if (comm.is_root()) std::filesystem::remove(ckpt);
}

namespace {

/// A method that evaluates itself: loss = 42 + the rounds stepped, grad_norm_sq = 7; or, with
/// `write_loss` false, a broken one that sets neither.
class SelfEvaluating : public Algorithm {
 public:
  explicit SelfEvaluating(Index d, bool write_loss = true)
      : x_(Vector::Zero(d)), write_(write_loss) {}
  std::string name() const override { return "self-evaluating"; }
  bool evaluates_itself() const override { return true; }
  void initialize(const Vector& x0) override { x_ = x0; }
  void step(std::int64_t round) override { rounds_ = round; }
  const Vector& model() const override { return x_; }
  std::uint64_t local_grad_evals() const override { return 0; }
  void extra_metrics(MetricRow& row) override {
    row.set("own", 1);
    if (!write_) return;
    row.set("loss", 42.0 + static_cast<double>(rounds_));
    row.set("grad_norm_sq", 7);
  }

 private:
  Vector x_;
  bool write_;
  std::int64_t rounds_ = 0;
};

}  // namespace

TEST(BilevelCli, TrainerSkipsTheEvaluatorForAMethodThatEvaluatesItself) {
  auto comm = Communicator::world();
  auto problem = test::multitask_on(comm, test::small_multitask(), 4, 5);
  // The objective of this context throws if the Evaluator ever calls it.
  BilevelRunContext bctx(comm, *problem, 5, Reduction::kOrdered);
  EXPECT_THROW(
      bctx.run().objective.sum_loss(Vector::Zero(problem->upper_dim()), DataBlock(), nullptr),
      Error);
  EXPECT_EQ(bctx.run().objective.dim(), problem->upper_dim());
  EXPECT_EQ(bctx.run().data.agents(), 4);
  SelfEvaluating m(problem->upper_dim());
  TrainerOptions t;
  t.rounds = 3;
  Trainer trainer(bctx.run(), m, t);
  const Summary s = trainer.run();
  EXPECT_EQ(s.rounds_done, 3);
  EXPECT_EQ(trainer.log().column("loss"), (std::vector<double>{42, 43, 44, 45}));
  EXPECT_EQ(trainer.log().column("grad_norm_sq"), (std::vector<double>{7, 7, 7, 7}));
  EXPECT_EQ(trainer.log().names()[1], "loss");
  EXPECT_EQ(trainer.log().column("own").back(), 1);
  // The Trainer's initial point is the problem's.
  EXPECT_EQ((m.model() - problem->initial_upper(5)).norm(), 0.0);

  SelfEvaluating broken(problem->upper_dim(), false);
  Trainer t2(bctx.run(), broken, t);
  EXPECT_THROW(t2.run(), Error);
}

TEST(BilevelCli, ConfigDefaultsAreTheTypedDefaults) {
  const Config c = Config::from_map(train_options(), {});
  const BilevelProblemOptions p = bilevel_problem_options_from(c);
  const BilevelProblemOptions p0;
  EXPECT_EQ(p.problem, p0.problem);
  EXPECT_EQ(p.multitask.features, p0.multitask.features);
  EXPECT_EQ(p.multitask.rank, p0.multitask.rank);
  EXPECT_EQ(p.multitask.train_rows, p0.multitask.train_rows);
  EXPECT_EQ(p.multitask.val_rows, p0.multitask.val_rows);
  EXPECT_EQ(p.multitask.lower_reg, p0.multitask.lower_reg);
  EXPECT_EQ(p.multitask.upper_reg, p0.multitask.upper_reg);
  EXPECT_EQ(p.multitask.noise, p0.multitask.noise);
  const HypergradientSolveOptions s = hypergradient_solve_options_from(c), s0;
  EXPECT_EQ(s.solver, s0.solver);
  EXPECT_EQ(s.cg_tol, s0.cg_tol);
  EXPECT_EQ(s.cg_max_iter, s0.cg_max_iter);
  EXPECT_EQ(s.lower_tol, s0.lower_tol);
  EXPECT_EQ(s.lower_max_iter, s0.lower_max_iter);
  const BlockSamplerOptions b = block_sampler_options_from(c), b0;
  EXPECT_EQ(b.blocks_per_iter, b0.blocks_per_iter);
  EXPECT_EQ(b.block_batch, b0.block_batch);
  const ExactHypergradOptions e = exact_hypergrad_options_from(c);
  EXPECT_EQ(e.lr, ExactHypergradOptions{}.lr);
  // The registry lists the bilevel method with the others.
  EXPECT_NE(method_registry().known().find("exact-hypergrad"), std::string::npos);
  EXPECT_TRUE(method_registry().get("exact-hypergrad").make.owns_problem());
  EXPECT_FALSE(method_registry().get("gd").make.owns_problem());
  EXPECT_EQ(bilevel_option_keys().front(), "bilevel-problem");
}

TEST(BilevelCli, BadInputNamesTheKey) {
  auto comm = Communicator::world();
  // I > m, B larger than a block (40 rows), a lower problem that is not strongly convex.
  expect_input_error(comm, make_config({{"blocks-per-iter", "9"}}), "blocks-per-iter");
  expect_input_error(comm, make_config({{"blocks-per-iter", "0"}}), "blocks-per-iter");
  expect_input_error(comm, make_config({{"block-batch", "41"}}), "block-batch");
  expect_input_error(comm, make_config({{"bilevel-lower-reg", "0"}}), "bilevel-lower-reg");
  expect_input_error(comm, make_config({{"bilevel-lower-reg", "-1"}}), "bilevel-lower-reg");
  expect_input_error(comm, make_config({{"bilevel-problem", "nosuch"}}), "bilevel-problem");
  expect_input_error(comm, make_config({{"bilevel-solver", "lu"}}), "bilevel-solver");
  expect_input_error(comm, make_config({{"lr", "theory"}}), "lr");
  // A bilevel option with a method of another family, a data option with a bilevel method.
  auto other = [](const char* algorithm, const char* key, const char* value) {
    return Config::from_map(train_options(), {{"algorithm", algorithm},
                                              {"agents", "8"},
                                              {key, value},
                                              {"log-format", "none"},
                                              {"output", "none"}});
  };
  expect_input_error(comm, other("gd", "blocks-per-iter", "5"), "blocks-per-iter");
  expect_input_error(comm, other("fedavg", "multitask-rank", "3"), "multitask-rank");
  expect_input_error(comm, other("gossip", "bilevel-problem", "multitask"), "bilevel-problem");
  expect_input_error(comm, make_config({{"data", "synthetic:logistic"}}), "data");
  expect_input_error(comm, make_config({{"problem", "logistic"}}), "problem");
  // The C++ entry point for RunContext methods refuses a bilevel one.
  test::expect_config_error(
      [&] {
        auto problem = test::multitask_on(comm, test::small_multitask(), 4, 5);
        BilevelRunContext bctx(comm, *problem, 5, Reduction::kOrdered);
        make_algorithm(make_config({}), bctx.run());
      },
      "algorithm");
  // Valid sampler options are accepted (exact-hypergrad is full batch and does not use them).
  EXPECT_NO_THROW(run_experiment(
      comm, make_config({{"blocks-per-iter", "8"}, {"block-batch", "40"}, {"rounds", "1"}})));
}
