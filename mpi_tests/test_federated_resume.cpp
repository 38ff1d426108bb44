// Federated runs do not depend on the placement of clients on ranks, and continue exactly after a
// checkpoint: every method with minibatches, partial participation, lr decay and (for one) a FedOpt
// server optimiser.
//  * world (clients spread over the ranks) vs MPI_COMM_SELF (every client on this rank alone):
//    1e-10 relative with --reduction allreduce, bit for bit with --reduction ordered;
//  * resume from a checkpoint equals the uninterrupted run bit for bit (model, metrics, counters),
//    also when the checkpoint written by the spread-out run is resumed on one rank;
//  * SIGTERM raised on one rank mid-run: every rank stops after the same round, a loadable
//    checkpoint holding every client's state is written, and resuming it finishes the run exactly.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>

#include "test_federated_common.hpp"

using namespace fedtest;

namespace {

const Problem kProblem{.clients = 10, .dim = 5, .base_rows = 30};

const std::vector<std::map<std::string, std::string>> kMethods = {
    {{"algorithm", "fedavg"}},
    {{"algorithm", "fedavg"}, {"server-opt", "adam"}, {"lr-global", "0.05"}},
    {{"algorithm", "fedprox"}, {"prox-mu", "0.1"}},
    {{"algorithm", "scaffold"}},
    {{"algorithm", "feddyn"}, {"feddyn-alpha", "0.3"}},
    {{"algorithm", "fedspeed"}, {"fedspeed-lambda", "3"}, {"fedspeed-rho", "0.05"}},
    {{"algorithm", "fedspeed"},
     {"fedspeed-server", "active"},
     {"fedspeed-lambda", "3"},
     {"fedspeed-rho", "0.05"}},
    {{"algorithm", "fedspeed-sim"}, {"fedspeed-lambda", "3"}, {"fedspeed-rho", "0.05"}},
    {{"algorithm", "fedavg"},
     {"sampling", "bernoulli"},
     {"clip-norm", "0.3"},
     {"weight-decay", "0.01"}},
};

Config stochastic_config(std::map<std::string, std::string> kv) {
  kv.emplace("batch-size", "7");
  kv.emplace("local-steps", "4");
  kv.emplace("participation", "0.4");
  kv.emplace("lr", "0.05");
  kv.emplace("lr-decay", "0.99");
  kv.emplace("seed", "17");
  return make_config(kProblem, kv);
}

std::string label(const std::map<std::string, std::string>& m) {
  std::string s;
  for (const auto& [k, v] : m) s += k + "=" + v + " ";
  return s;
}

/// A checkpoint path that every rank of the world agrees on, distinct per world size (the suites
/// at np 1, 2, 4 may run at the same time).
std::string checkpoint_path(Communicator& comm, const std::string& tag) {
  std::string p = std::string(DISTOPT_BINARY_DIR) + "/test_federated_resume_np" +
                  std::to_string(comm.size()) + "_" + tag + ".ckpt.h5";
  comm.broadcast(p);
  return p;
}

}  // namespace

TEST(FederatedPlacement, SameModelAtAnyRankCount) {
  auto world = Communicator::world();
  auto self = Communicator::self();
  for (const auto& m : kMethods) {
    for (const char* red : {"allreduce", "ordered"}) {
      auto kv = m;
      kv["reduction"] = red;
      const Config cfg = stochastic_config(kv);
      const Vector xw = run_rounds(world, kProblem, cfg, 25);
      const Vector xs = run_rounds(self, kProblem, cfg, 25);
      ASSERT_GT(xs.norm(), 0.1);
      if (std::string(red) == "ordered") {
        EXPECT_EQ((xw - xs).norm(), 0.0) << label(kv);
      } else {
        EXPECT_LT(rel_diff(xw, xs), 1e-10) << label(kv);
      }
    }
  }
}

TEST(FederatedCheckpoint, ResumeEqualsUninterruptedRun) {
  auto comm = Communicator::world();
  for (const auto& m : kMethods) {
    auto kv = m;
    kv["rounds"] = "24";
    kv["eval-every"] = "4";
    kv["reduction"] = "ordered";
    const Config cfg = stochastic_config(kv);
    const std::string ckpt = checkpoint_path(comm, "resume");

    // A fresh communicator wrapper per run: traffic counters start at zero.
    auto c1 = Communicator::world(), c2 = Communicator::world(), c3 = Communicator::world();
    auto self = Communicator::self();
    const TrainRun full = train(c1, kProblem, cfg, trainer_options_from(cfg));

    auto first = trainer_options_from(cfg);
    first.rounds = 13;
    first.checkpoint_every = 9;  // one checkpoint, at round 9; rounds 10..13 are then thrown away
    first.checkpoint_path = ckpt;
    const TrainRun part = train(c2, kProblem, cfg, first);
    ASSERT_EQ(part.summary.checkpoint_written, ckpt);

    auto second = trainer_options_from(cfg);
    second.resume_path = ckpt;
    const TrainRun resumed = train(c3, kProblem, cfg, second);
    EXPECT_EQ((resumed.x - full.x).norm(), 0.0) << label(kv) << ": resume must continue bit for bit";
    EXPECT_EQ(resumed.log.rows(), full.log.rows());
    for (const char* col : {"loss", "grad_evals", "bytes_up", "bytes_down", "client_drift",
                            "bytes_up_round", "active_clients"}) {
      EXPECT_EQ(resumed.log.column(col), full.log.column(col)) << label(kv) << " metric " << col;
    }

    // The same checkpoint resumed with every client on one rank (ordered sums: bit for bit).
    const TrainRun alone = train(self, kProblem, cfg, second);
    EXPECT_EQ((alone.x - full.x).norm(), 0.0) << label(kv) << ": resumed on one rank";
    for (const char* col : {"grad_evals", "bytes_up", "bytes_down"}) {
      EXPECT_EQ(alone.log.column(col), full.log.column(col)) << label(kv) << " on one rank: " << col;
    }
    // The Trainer's evaluator sums the loss per rank then over ranks: equal up to reassociation.
    const auto& la = alone.log.column("loss");
    const auto& lf = full.log.column("loss");
    ASSERT_EQ(la.size(), lf.size());
    for (std::size_t i = 0; i < la.size(); ++i) EXPECT_NEAR(la[i], lf[i], 1e-12 * std::abs(lf[i]));
    comm.barrier();
    if (comm.is_root()) std::filesystem::remove(ckpt);
  }
}

namespace {
/// Raises SIGTERM on one rank when the given round has been evaluated.
class RaiseAt : public TrainerCallback {
 public:
  RaiseAt(int rank, int me, double round) : rank_(rank), me_(me), round_(round) {}
  void on_evaluation(const MetricRow& row) override {
    if (me_ == rank_ && row.get("round") == round_) std::raise(SIGTERM);
  }

 private:
  int rank_, me_;
  double round_;
};
}  // namespace

TEST(FederatedCheckpoint, SigtermLeavesALoadableCheckpoint) {
  auto comm = Communicator::world();
  install_stop_signal_handlers();
  auto kv = kMethods[3];  // scaffold: server c and client c_i must all be in the checkpoint
  kv["rounds"] = "20";
  kv["reduction"] = "ordered";
  const Config cfg = stochastic_config(kv);
  const std::string ckpt = checkpoint_path(comm, "sigterm");

  auto c1 = Communicator::world(), c2 = Communicator::world(), c3 = Communicator::world();
  const TrainRun full = train(c1, kProblem, cfg, trainer_options_from(cfg));

  RaiseAt raiser(comm.size() - 1, comm.rank(), 7);
  auto first = trainer_options_from(cfg);
  first.checkpoint_path = ckpt;
  const TrainRun stopped = train(c2, kProblem, cfg, first, &raiser);
  clear_stop_request();
  std::signal(SIGTERM, SIG_DFL);
  std::signal(SIGINT, SIG_DFL);
  EXPECT_EQ(stopped.summary.termination, Termination::kSignal);
  EXPECT_EQ(stopped.summary.rounds_done, 7);
  ASSERT_EQ(stopped.summary.checkpoint_written, ckpt);

  const StateArchive a = StateArchive::load(ckpt);
  EXPECT_EQ(a.get_count("trainer/round"), 7u);
  EXPECT_EQ(a.get_vector("server/x"), stopped.x);
  EXPECT_EQ(a.get_vector("server/scaffold/c").size(), kProblem.dim);
  // Every client that was active in rounds 1..7 has its c_i in the file; the others have none.
  Index with_state = 0;
  for (Index i = 0; i < kProblem.clients; ++i) {
    with_state += a.has(StateArchive::agent_key(i, "scaffold/c")) ? 1 : 0;
  }
  EXPECT_GE(with_state, 4);  // at least the 4 clients of round 1
  EXPECT_LE(with_state, kProblem.clients);

  auto second = trainer_options_from(cfg);
  second.resume_path = ckpt;
  const TrainRun resumed = train(c3, kProblem, cfg, second);
  EXPECT_EQ(resumed.summary.termination, Termination::kBudget);
  EXPECT_EQ((resumed.x - full.x).norm(), 0.0);
  comm.barrier();
  if (comm.is_root()) std::filesystem::remove(ckpt);
}
