// Asynchronous federated methods (fedbuff, fedfix; ALGORITHMS.md §1) in simulated time, on the
// heterogeneous quadratics of test_federated_common.hpp, f_i(x) = ½(x−b_i)ᵀA_i(x−b_i):
//  * FedBuff with K = C = N and equal speeds is FedAvg with full participation, bit for bit
//    (the same products and sums in the same order: every client starts each version from the
//    same model, its minibatch stream is keyed by its own dispatch count = FedAvg's round, and
//    s(0) = 1 leaves its update untouched);
//  * with one full-batch local step, u_i = −η A_i (x^{ρ_i} − b_i), and an asynchronous scheme in
//    which client i's updates enter with average weight q_i per unit of time has the fixed point
//    of the averaged iteration, (Σ q_i A_i) x = Σ q_i A_i b_i, computed here by a linear solve:
//      FedFix (d_i = ⌈τ_i/Δt⌉ p_i, returns every k_i = ⌈τ_i/Δt⌉ aggregations): q_i = p_i, the
//        true minimiser of Σ p_i f_i;
//      FedFix with d_i = p_i: q_i = p_i / k_i (biased towards fast clients);
//      FedBuff with K = 1, C = N, s ≡ 1 (plain asynchronous averaging): every client is back
//        every τ_i = 1/s_i, so q_i = s_i (the speed-weighted optimum).
//    With a constant step the stale iterates settle on a small cycle around that point, of size
//    O(η); the cycle is averaged over whole periods (FedFix: lcm of the k_i = 24 aggregations;
//    naive: 2 units of time = 61 arrivals) and compared with a tolerance well below the distance
//    between the fixed points (asserted first);
//  * --reduction ordered: the same bits at 1, 2 and 4 ranks (world vs every client on one rank);
//  * the staleness weight: with simultaneous arrivals on one model, each step is the s ≡ 1 step
//    times s(τ) (sqrt, poly:2); the staleness histogram of that schedule, computed by hand;
//  * resume from a checkpoint equals the uninterrupted run bit for bit (clients in flight with
//    their held updates, the clock and the counters are in the checkpoint), also on one rank.
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "distopt/federated/async_federated.hpp"
#include "test_federated_common.hpp"

using namespace fedtest;

namespace {

const Problem kProblem{.clients = 8, .dim = 4, .base_rows = 40};
// Client speeds of the fixed-point tests (local steps per unit of simulated time).
const std::vector<double> kSpeeds = {1, 1.5, 2, 3, 4, 5, 6, 8};

/// A speeds file every rank agrees on (one per world size: suites may run concurrently).
std::string speeds_file(Communicator& comm, const std::vector<double>& s, const std::string& tag) {
  std::string p = std::string(DISTOPT_BINARY_DIR) + "/test_federated_async_np" +
                  std::to_string(comm.size()) + "_" + tag + ".speeds";
  if (comm.is_root()) {
    std::ofstream f(p);
    for (double v : s) f << v << "\n";
  }
  comm.barrier();
  return p;
}

/// Solves (Σ q_i A_i) x = Σ q_i A_i b_i.
Vector weighted_minimiser(const Problem& p, const std::vector<double>& q) {
  Matrix H = Matrix::Zero(p.dim, p.dim);
  Vector r = Vector::Zero(p.dim);
  for (Index i = 0; i < p.clients; ++i) {
    Matrix A;
    Vector b;
    p.quadratic(i, A, b);
    H += q[static_cast<std::size_t>(i)] * A;
    r += q[static_cast<std::size_t>(i)] * A * b;
  }
  return H.partialPivLu().solve(r);
}

/// Runs `rounds` steps and returns the mean of the models after the last `tail` of them.
Vector run_tail_mean(Communicator& comm, const Config& cfg, std::int64_t rounds,
                     std::int64_t tail) {
  RunSetup s(comm, kProblem, cfg);
  auto algo = make_algorithm(s.config, s.ctx);
  algo->initialize(Vector::Zero(kProblem.dim));
  Vector mean = Vector::Zero(kProblem.dim);
  for (std::int64_t t = 1; t <= rounds; ++t) {
    algo->step(t);
    if (t > rounds - tail) mean += algo->model();
  }
  return mean / static_cast<double>(tail);
}

std::string label(const std::map<std::string, std::string>& m) {
  std::string s;
  for (const auto& [k, v] : m) s += k + "=" + v + " ";
  return s;
}

}  // namespace

TEST(FedBuff, WithBufferEqualToConcurrencyEqualToClientsIsFedAvg) {
  auto comm = Communicator::world();
  for (const char* server : {"sgd", "adam"}) {
    for (const char* weighting : {"samples", "uniform"}) {
      std::map<std::string, std::string> common = {
          {"batch-size", "7"},
          {"lr-decay", "0.97"},
          {"server-opt", server},
          {"lr-global", std::string(server) == "sgd" ? "1" : "0.05"},
          {"weighting", weighting},
          {"reduction", "ordered"},
          {"seed", "5"}};
      auto avg = common;
      avg["algorithm"] = "fedavg";
      auto buff = common;
      buff["algorithm"] = "fedbuff";
      buff["buffer-size"] = std::to_string(kProblem.clients);
      buff["fedbuff-weights"] = std::string(weighting) == "samples" ? "data" : "uniform";
      Config ca = make_config(kProblem, avg);
      ca.set("batch-size", "7");
      Config cb = make_config(kProblem, buff);
      cb.set("batch-size", "7");
      const Vector xa = run_rounds(comm, kProblem, ca, 15);
      const Vector xb = run_rounds(comm, kProblem, cb, 15);
      ASSERT_GT(xa.norm(), 0.1);
      // uniform weighting: 1/K = p_i / Σ p_j = 1/8 exactly (N = 8), so bitwise too.
      EXPECT_EQ((xa - xb).norm(), 0.0)
          << label(buff) << "\nfedavg " << xa.transpose() << "\nfedbuff " << xb.transpose();
      // Not vacuous: a smaller buffer (stale updates) is another method.
      cb.set("buffer-size", "3");
      EXPECT_GT(rel_diff(run_rounds(comm, kProblem, cb, 15), xa), 1e-3) << label(buff);
    }
  }
}

TEST(FedFix, UnbiasedWeightsReachTheTrueOptimumNaiveAveragingIsBiased) {
  auto comm = Communicator::world();
  const std::string file = speeds_file(comm, kSpeeds, "fixed_points");
  const auto p = kProblem.weights(false);
  const double dt = 0.125;
  std::vector<double> k(kSpeeds.size()), fix_uniform(kSpeeds.size());
  for (std::size_t i = 0; i < kSpeeds.size(); ++i) {
    k[i] = std::ceil((1.0 / kSpeeds[i]) / dt);  // one local step: τ_i = 1/s_i
    fix_uniform[i] = p[i] / k[i];
  }
  ASSERT_EQ(k.front(), 8.0);
  ASSERT_EQ(k.back(), 1.0);
  const Vector x_star = weighted_minimiser(kProblem, p);
  const Vector x_speed = weighted_minimiser(kProblem, kSpeeds);
  const Vector x_fix_uniform = weighted_minimiser(kProblem, fix_uniform);
  // The three fixed points are far apart compared with the tolerance below.
  ASSERT_GT((x_speed - x_star).norm(), 0.1);
  ASSERT_GT((x_fix_uniform - x_star).norm(), 0.1);
  // Measured at η = 0.005 (np 1): distances 0.0019 (fedfix), 0.0005 (fedfix uniform), 0.0023
  // (naive), and 4x those at η = 0.02: the O(η) cycle, well inside the tolerance.
  const double tol = 0.01;

  std::map<std::string, std::string> common = {
      {"local-steps", "1"}, {"lr", "0.005"}, {"client-speed", "file:" + file}};
  auto fix = common;
  fix["algorithm"] = "fedfix";
  fix["aggregation-interval"] = "0.125";
  const Vector xf = run_tail_mean(comm, make_config(kProblem, fix), 16000, 480);
  EXPECT_LT((xf - x_star).norm(), tol)
      << "fedfix " << xf.transpose() << "\nx*     " << x_star.transpose();

  auto fixu = fix;
  fixu["fedfix-weights"] = "uniform";
  const Vector xu = run_tail_mean(comm, make_config(kProblem, fixu), 32000, 480);
  EXPECT_LT((xu - x_fix_uniform).norm(), tol)
      << "fedfix uniform " << xu.transpose() << "\nexpected       " << x_fix_uniform.transpose();
  EXPECT_GT((xu - x_star).norm(), 0.1);

  auto naive = common;
  naive["algorithm"] = "fedbuff";
  naive["buffer-size"] = "1";
  naive["staleness"] = "constant";
  const Vector xn = run_tail_mean(comm, make_config(kProblem, naive), 80000, 61);
  EXPECT_LT((xn - x_speed).norm(), tol)
      << "naive " << xn.transpose() << "\nspeed-weighted " << x_speed.transpose();
  EXPECT_GT((xn - x_star).norm(), 0.1);
}

TEST(AsyncFederated, StalenessHistogramOfSimultaneousArrivals) {
  // C = N = 8 equal-speed clients, K = 1: the 8 clients return together, each one is a server
  // update, and they are replaced only once all 8 are in: staleness 0, 1, ..., 7 in every wave.
  auto comm = Communicator::world();
  auto kv = std::map<std::string, std::string>{{"algorithm", "fedbuff"}, {"buffer-size", "1"}};
  RunSetup s(comm, kProblem, make_config(kProblem, kv));
  auto algo = make_algorithm(s.config, s.ctx);
  algo->initialize(Vector::Zero(kProblem.dim));
  for (std::int64_t t = 1; t <= 24; ++t) algo->step(t);
  const auto& a = dynamic_cast<const AsyncFederated&>(*algo);
  const std::vector<std::uint64_t> expected(8, 3);
  EXPECT_EQ(a.staleness_histogram(), expected);
  EXPECT_EQ(a.version(), 24);
  EXPECT_EQ(a.virtual_time(), 3.0 * 5.0);  // 3 waves of 5 local steps (make_config) at speed 1
  std::map<std::string, RowMatrix> out;
  algo->final_outputs(out);
  ASSERT_EQ(out["staleness_histogram"].rows(), 8);
  EXPECT_EQ(out["staleness_histogram"](7, 0), 7.0);
  EXPECT_EQ(out["staleness_histogram"](7, 1), 3.0);
}

TEST(FedBuff, StalenessWeightScalesTheStaleUpdate) {
  // C = N = 8 equal-speed clients, K = 1: the first wave's arrivals have staleness 0, 1, 2, ...
  // and all trained on x^0, so with s ≡ 1 and with s = S(τ) the steps x^{v+1} − x^v differ
  // exactly by the factor S(v): 1/√(1+v) for sqrt, (1+v)^−2 for poly:2, until v = 7.
  auto comm = Communicator::world();
  auto models = [&](const std::string& staleness) {
    auto kv = std::map<std::string, std::string>{
        {"algorithm", "fedbuff"}, {"buffer-size", "1"}, {"staleness", staleness}};
    RunSetup s(comm, kProblem, make_config(kProblem, kv));
    auto algo = make_algorithm(s.config, s.ctx);
    algo->initialize(Vector::Zero(kProblem.dim));
    std::vector<Vector> xs{algo->model()};
    for (std::int64_t t = 1; t <= 8; ++t) {
      algo->step(t);
      xs.push_back(algo->model());
    }
    return xs;
  };
  const auto c = models("constant");
  for (const auto& [spec, power] :
       std::vector<std::pair<std::string, double>>{{"sqrt", 0.5}, {"poly:2", 2.0}}) {
    const auto w = models(spec);
    for (int v = 0; v < 8; ++v) {
      const Vector dc = c[v + 1] - c[v];
      const Vector dw = w[v + 1] - w[v];
      ASSERT_GT(dc.norm(), 1e-3);
      const double factor = std::pow(1.0 + v, -power);
      EXPECT_LT((dw - factor * dc).norm(), 1e-12 * dc.norm()) << spec << " version " << v;
    }
  }
}

namespace {
const std::vector<std::map<std::string, std::string>> kAsyncMethods = {
    {{"algorithm", "fedbuff"}, {"buffer-size", "3"}, {"concurrency", "5"}},
    {{"algorithm", "fedbuff"},
     {"buffer-size", "4"},
     {"staleness", "poly:1"},
     {"fedbuff-weights", "data"},
     {"server-opt", "adam"},
     {"lr-global", "0.05"}},
    {{"algorithm", "fedfix"}, {"aggregation-interval", "7"}},
    {{"algorithm", "fedfix"},
     {"aggregation-interval", "5"},
     {"server-opt", "momentum"},
     {"lr-global", "0.5"}},
};

Config stochastic_config(std::map<std::string, std::string> kv) {
  kv.emplace("local-steps", "4");
  kv.emplace("lr", "0.05");
  kv.emplace("lr-decay", "0.99");
  kv.emplace("seed", "17");
  kv.emplace("client-speed", "lognormal:0,0.8");
  Config c = make_config(kProblem, kv);
  c.set("batch-size", "7");
  return c;
}

std::string checkpoint_path(Communicator& comm, const std::string& tag) {
  std::string p = std::string(DISTOPT_BINARY_DIR) + "/test_federated_async_np" +
                  std::to_string(comm.size()) + "_" + tag + ".ckpt.h5";
  comm.broadcast(p);
  return p;
}
}  // namespace

TEST(AsyncFederated, SameBitsAtAnyRankCount) {
  auto world = Communicator::world();
  auto self = Communicator::self();
  for (const auto& m : kAsyncMethods) {
    for (const char* red : {"allreduce", "ordered"}) {
      auto kv = m;
      kv["reduction"] = red;
      const Config cfg = stochastic_config(kv);
      const Vector xw = run_rounds(world, kProblem, cfg, 30);
      const Vector xs = run_rounds(self, kProblem, cfg, 30);
      ASSERT_GT(xs.norm(), 0.1) << label(kv);
      if (std::string(red) == "ordered") {
        EXPECT_EQ((xw - xs).norm(), 0.0) << label(kv);
      } else {
        EXPECT_LT(rel_diff(xw, xs), 1e-10) << label(kv);
      }
    }
  }
}

TEST(AsyncFederated, ResumeEqualsUninterruptedRun) {
  auto comm = Communicator::world();
  for (const auto& m : kAsyncMethods) {
    auto kv = m;
    kv["rounds"] = "24";
    kv["eval-every"] = "4";
    kv["reduction"] = "ordered";
    const Config cfg = stochastic_config(kv);
    const std::string ckpt = checkpoint_path(comm, "resume");
    auto c1 = Communicator::world(), c2 = Communicator::world(), c3 = Communicator::world();
    auto self = Communicator::self();
    const TrainRun full = train(c1, kProblem, cfg, trainer_options_from(cfg));

    auto first = trainer_options_from(cfg);
    first.rounds = 13;
    first.checkpoint_every = 9;
    first.checkpoint_path = ckpt;
    const TrainRun part = train(c2, kProblem, cfg, first);
    ASSERT_EQ(part.summary.checkpoint_written, ckpt);

    auto second = trainer_options_from(cfg);
    second.resume_path = ckpt;
    const TrainRun resumed = train(c3, kProblem, cfg, second);
    EXPECT_EQ((resumed.x - full.x).norm(), 0.0)
        << label(kv) << ": resume must continue bit for bit";
    ASSERT_EQ(resumed.log.rows(), full.log.rows());
    for (const char* col :
         {"loss", "grad_evals", "bytes_up", "bytes_down", "virtual_time", "server_version",
          "arrivals", "dispatches", "in_flight", "staleness_mean", "staleness_max"}) {
      EXPECT_EQ(resumed.log.column(col), full.log.column(col)) << label(kv) << " metric " << col;
    }
    const TrainRun alone = train(self, kProblem, cfg, second);
    EXPECT_EQ((alone.x - full.x).norm(), 0.0) << label(kv) << ": resumed on one rank";
    for (const char* col : {"grad_evals", "bytes_up", "bytes_down", "virtual_time"}) {
      EXPECT_EQ(alone.log.column(col), full.log.column(col))
          << label(kv) << " on one rank: " << col;
    }
    comm.barrier();
    if (comm.is_root()) std::filesystem::remove(ckpt);
  }
}

TEST(ClientSpeed, DrawsDependOnlyOnSeedAndClient) {
  const auto o = ClientSpeedOptions::parse("lognormal:0.5,0.3");
  const auto a = client_speeds(o, 6, 3);
  const auto b = client_speeds(o, 9, 3);
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i], b[i]);
  EXPECT_NE(client_speeds(o, 6, 4), a);
  RandomStream r(3, 2, 0, Purpose::kClock);
  EXPECT_EQ(a[2], std::exp(0.5 + 0.3 * r.normal()));
  const auto e = client_speeds(ClientSpeedOptions::parse("exponential:2"), 4000, 1);
  double mean = 0;
  for (double v : e) mean += v / 4000.0;
  EXPECT_NEAR(mean, 2.0, 0.15);  // 4.7 standard errors
  EXPECT_EQ(client_speeds(ClientSpeedOptions::parse("constant:3"), 3, 1),
            std::vector<double>(3, 3.0));
  EXPECT_THROW(ClientSpeedOptions::parse("uniform"), ConfigError);
  EXPECT_THROW(ClientSpeedOptions::parse("exponential:0"), ConfigError);
  EXPECT_THROW(ClientSpeedOptions::parse("lognormal:1"), ConfigError);
}
