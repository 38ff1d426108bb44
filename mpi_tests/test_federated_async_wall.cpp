// The wall clock of the asynchronous federated methods (fedbuff, fedfix --clock wall;
// async_federated.hpp): real time on real ranks, the server on rank 0. Registered at 2 and 4
// ranks only (mpi_tests/CMakeLists.txt). No wall time, and no precision reached within a wall
// time, is asserted: only what the clock guarantees whatever the timing.
//  * With one client in flight (--concurrency 1) nothing can be reordered: every update is
//    trained on the model the virtual clock would give it and buffered in the same order, and the
//    server sums in client order as --reduction ordered does, so the wall-clock run equals the
//    virtual-clock run bit for bit (K = 1 and K = 3, minibatches, lr decay, SGD and Adam servers).
//  * Every dispatched client's update reaches the server exactly once (the server counts
//    receipts against dispatches; a duplicate or unknown update throws), every aggregated arrival
//    is in the staleness histogram and the per-client table, FedBuff aggregates exactly K per
//    round, and the run ends on every rank (the suite would time out otherwise).
//  * FedBuff on heterogeneous quadratics with a common minimiser w (curvatures A_i differ, every
//    f_i is minimal at w): whatever the arrival order and staleness, each update vanishes at w, so
//    w is the fixed point; a small step reaches it within a budget of server rounds (events).
//  * --slow-rank R:4 (and --grad-cost, so that a local step costs more than the messages): the
//    slow rank's clients contribute fewer updates per client than the others' and their updates
//    are staler, i.e. the slow rank does not hold the others back.
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <cmath>
#include <numeric>

#include "distopt/federated/async_federated.hpp"
#include "test_federated_common.hpp"

using namespace fedtest;

namespace {

const Problem kProblem{.clients = 8, .dim = 4, .base_rows = 40};

/// The method built from `cfg`, as AsyncFederated.
struct AsyncRun {
  AsyncRun(Communicator& comm, const Problem& p, const Config& cfg)
      : setup(comm, p, cfg), algo(make_algorithm(setup.config, setup.ctx)) {
    async = dynamic_cast<AsyncFederated*>(algo.get());
    algo->initialize(Vector::Zero(p.dim));
  }
  RunSetup setup;
  std::unique_ptr<Algorithm> algo;
  AsyncFederated* async = nullptr;
};

/// Runs `rounds` rounds and the final drain; returns the model.
Vector run(AsyncRun& r, std::int64_t rounds) {
  for (std::int64_t t = 1; t <= rounds; ++t) r.algo->step(t);
  std::map<std::string, RowMatrix> out;
  r.algo->final_outputs(out);
  return r.algo->model();
}

std::uint64_t sum(const std::vector<std::uint64_t>& v) {
  return std::accumulate(v.begin(), v.end(), std::uint64_t{0});
}

/// The event bookkeeping every wall-clock run must satisfy after final_outputs().
void expect_every_update_once(Communicator& comm, const AsyncFederated& a) {
  EXPECT_EQ(a.received(), a.dispatched());
  EXPECT_LE(a.applied(), a.received());
  EXPECT_EQ(sum(a.client_applied()), a.applied());
  EXPECT_EQ(sum(a.staleness_histogram()), a.applied());
  std::uint64_t weighted = 0;
  for (std::size_t t = 0; t < a.staleness_histogram().size(); ++t)
    weighted += t * a.staleness_histogram()[t];
  EXPECT_EQ(sum(a.client_staleness()), weighted);
  // Replicated: every rank holds rank 0's counts.
  std::vector<double> mine{static_cast<double>(a.received()), static_cast<double>(a.applied()),
                           static_cast<double>(a.version())};
  std::vector<double> lo = mine, hi = mine;
  comm.allreduce_min(std::span<double>(lo));
  comm.allreduce_max(std::span<double>(hi));
  EXPECT_EQ(lo, hi);
}

}  // namespace

TEST(AsyncWall, OneClientInFlightEqualsTheVirtualClockBitwise) {
  auto comm = Communicator::world();
  for (const char* server : {"sgd", "adam"}) {
    for (const char* k : {"1", "3"}) {
      std::map<std::string, std::string> kv = {
          {"algorithm", "fedbuff"},
          {"concurrency", "1"},
          {"buffer-size", k},
          {"batch-size", "7"},
          {"lr-decay", "0.97"},
          {"server-opt", server},
          {"lr-global", std::string(server) == "sgd" ? "1" : "0.05"},
          {"reduction", "ordered"},
          {"seed", "11"}};
      Config cv = make_config(kProblem, kv);
      cv.set("batch-size", "7");
      Config cw = cv;
      cw.set("clock", "wall");
      AsyncRun v(comm, kProblem, cv), w(comm, kProblem, cw);
      const Vector xv = run(v, 12), xw = run(w, 12);
      ASSERT_GT(xv.norm(), 0.1);
      EXPECT_EQ((xv - xw).norm(), 0.0) << server << " K=" << k << "\nvirtual " << xv.transpose()
                                       << "\nwall    " << xw.transpose();
      EXPECT_EQ(v.async->staleness_histogram(), w.async->staleness_histogram());
      EXPECT_EQ(v.async->client_applied(), w.async->client_applied());
      expect_every_update_once(comm, *w.async);
    }
  }
}

TEST(AsyncWall, EveryDispatchedUpdateArrivesExactlyOnce) {
  auto comm = Communicator::world();
  {
    Config c = make_config(kProblem, {{"algorithm", "fedbuff"},
                                      {"clock", "wall"},
                                      {"buffer-size", "3"},
                                      {"concurrency", "6"},
                                      {"lr", "0.05"}});
    AsyncRun r(comm, kProblem, c);
    const std::int64_t rounds = 20;
    const Vector x = run(r, rounds);
    EXPECT_TRUE(x.allFinite());
    EXPECT_EQ(r.async->version(), rounds);
    EXPECT_EQ(r.async->applied(), static_cast<std::uint64_t>(3 * rounds));  // K per update
    // Each arrival is replaced until the final drain: C + (arrivals before it) dispatches.
    EXPECT_GE(r.async->dispatched(), r.async->applied());
    expect_every_update_once(comm, *r.async);
    // Through the Trainer too (evaluation between rounds while clients train).
  }
  {
    Config c = make_config(kProblem, {{"algorithm", "fedfix"},
                                      {"clock", "wall"},
                                      {"aggregation-interval", "0.004"},
                                      {"lr", "0.02"},
                                      {"local-steps", "2"}});
    RunSetup s(comm, kProblem, c);
    auto algo = make_algorithm(s.config, s.ctx);
    TrainerOptions topt;
    topt.rounds = 15;
    topt.eval_every = 2;
    topt.initial_model = Vector::Zero(kProblem.dim);
    Trainer t(s.ctx, *algo, topt);
    t.run();
    std::map<std::string, RowMatrix> out;
    algo->final_outputs(out);
    auto& a = dynamic_cast<AsyncFederated&>(*algo);
    EXPECT_EQ(a.version(), 15);
    expect_every_update_once(comm, a);
    ASSERT_TRUE(out.count("client_updates"));
    EXPECT_TRUE(algo->model().allFinite());
  }
}

TEST(AsyncWall, FedBuffReachesTheCommonMinimiserWithinARoundBudget) {
  // Heterogeneous curvatures, one minimiser: with y_i = X_i w every f_i is minimal at w.
  auto comm = Communicator::world();
  const Problem& p = kProblem;
  Config c = make_config(p, {{"algorithm", "fedbuff"},
                             {"clock", "wall"},
                             {"buffer-size", "2"},
                             {"lr", "0.05"},
                             {"staleness", "sqrt"}});
  RunSetup s(comm, p, c);
  // Replace the labels by X w (rows in agent order on this rank).
  Vector w(p.dim);
  w << 1.0, -2.0, 0.5, 3.0;
  Dataset& train = s.data.train;
  train.labels() = train.dense() * w;
  auto algo = make_algorithm(s.config, s.ctx);
  algo->initialize(Vector::Zero(p.dim));
  for (std::int64_t t = 1; t <= 1500; ++t) algo->step(t);
  std::map<std::string, RowMatrix> out;
  algo->final_outputs(out);
  EXPECT_LT((algo->model() - w).norm(), 1e-6 * w.norm()) << algo->model().transpose();
  expect_every_update_once(comm, dynamic_cast<AsyncFederated&>(*algo));
}

TEST(AsyncWall, ASlowRankDoesNotHoldTheOthersBack) {
  auto comm = Communicator::world();
  const int slow = comm.size() - 1;
  Config c = make_config(kProblem, {{"algorithm", "fedbuff"},
                                    {"clock", "wall"},
                                    {"buffer-size", "2"},
                                    {"lr", "0.02"},
                                    {"local-steps", "3"},
                                    {"grad-cost", "0.002"},
                                    {"slow-rank", std::to_string(slow) + ":4"}});
  AsyncRun r(comm, kProblem, c);
  run(r, 60);
  expect_every_update_once(comm, *r.async);
  const Placement& pl = r.setup.placement;
  double slow_n = 0, fast_n = 0, slow_upd = 0, fast_upd = 0, slow_tau = 0, fast_tau = 0;
  for (Index i = 0; i < kProblem.clients; ++i) {
    const auto k = static_cast<std::size_t>(i);
    const bool is_slow = pl.owner(i) == slow;
    (is_slow ? slow_n : fast_n) += 1;
    (is_slow ? slow_upd : fast_upd) += static_cast<double>(r.async->client_applied()[k]);
    (is_slow ? slow_tau : fast_tau) += static_cast<double>(r.async->client_staleness()[k]);
  }
  ASSERT_GT(slow_n, 0);
  ASSERT_GT(fast_n, 0);
  ASSERT_GT(slow_upd, 0) << "the slow rank contributed nothing";
  // A slow client takes 4 times as long per local step: per client, fewer updates (by far).
  EXPECT_LT(1.5 * slow_upd / slow_n, fast_upd / fast_n)
      << "slow " << slow_upd << " over " << slow_n << " clients, fast " << fast_upd << " over "
      << fast_n;
  // ... and staler ones: more server versions pass while one of them trains.
  EXPECT_GT(slow_tau / slow_upd, fast_tau / fast_upd);
}

TEST(AsyncWall, WallClockRunsRefuseCheckpoints) {
  auto comm = Communicator::world();
  Config c = make_config(kProblem, {{"algorithm", "fedbuff"}, {"clock", "wall"}});
  AsyncRun r(comm, kProblem, c);
  EXPECT_FALSE(r.algo->supports_checkpoints());
  Config v = make_config(kProblem, {{"algorithm", "fedbuff"}});
  AsyncRun rv(comm, kProblem, v);
  EXPECT_TRUE(rv.algo->supports_checkpoints());
}

TEST(AsyncWall, TimeBudgetEndsTheRunOnTheMethodsClock) {
  // --time on the method's clock: the run ends after the first update at or past T. Asserted
  // through what the clock guarantees (the last update's clock is past T, the one before is not),
  // never through a duration. The virtual clock: FedFix's n-th update is at n Δt exactly.
  auto comm = Communicator::world();
  for (const char* clock : {"virtual", "wall"}) {
    Config c = make_config(kProblem, {{"algorithm", "fedfix"},
                                      {"clock", clock},
                                      {"aggregation-interval", "0.01"},
                                      {"time", "0.055"},
                                      {"local-steps", "2"}});
    RunSetup s(comm, kProblem, c);
    auto algo = make_algorithm(s.config, s.ctx);
    TrainerOptions topt = trainer_options_from(s.config);
    EXPECT_EQ(topt.rounds, 100);  // --time does not set --rounds for fedbuff/fedfix
    topt.initial_model = Vector::Zero(kProblem.dim);
    Trainer t(s.ctx, *algo, topt);
    const Summary sum = t.run();
    std::map<std::string, RowMatrix> out;
    algo->final_outputs(out);
    auto& a = dynamic_cast<AsyncFederated&>(*algo);
    EXPECT_EQ(sum.termination, Termination::kBudget) << clock;
    EXPECT_GE(a.virtual_time(), 0.055) << clock;
    // The round before the last one had not reached T (the run did not stop late).
    const auto& col = t.log().column(std::string(clock) == "wall" ? "server_time" : "virtual_time");
    ASSERT_GE(col.size(), 2u);
    EXPECT_LT(col[col.size() - 2], 0.055) << clock;
    if (std::string(clock) == "virtual") {
      EXPECT_EQ(sum.rounds_done, 6);
    } else {
      expect_every_update_once(comm, a);
    }
  }
}
