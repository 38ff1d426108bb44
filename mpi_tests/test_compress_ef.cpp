// Error feedback end to end through gd and the Trainer, on the EF21 paper's problem (ALGORITHMS.md
// §2: logistic loss + λ Σ x_j²/(1+x_j²), λ = 0.1, 20 workers, contiguous split), synthetic data:
// EF21, EF21-W and EControl reach ‖∇f‖² < 1e-8 with Top-k, compressed GD without feedback at the
// same k and step stalls far above, EF14 makes progress; the same trajectory at any rank count;
// resume equals the uninterrupted run; partial participation semantics; option validation.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "distopt/comm/communicator.hpp"
#include "distopt/compress/compressed_uplink.hpp"
#include "distopt/compress/econtrol_state.hpp"
#include "distopt/compress/ef21_state.hpp"
#include "distopt/compress/step_size.hpp"
#include "distopt/compress/top_k.hpp"
#include "distopt/core/error.hpp"
#include "distopt/core/random.hpp"
#include "distopt/data/local_data.hpp"
#include "distopt/method/algorithm.hpp"
#include "distopt/method/trainer.hpp"
#include "distopt/model/objective.hpp"
#include "distopt/run/compress_config.hpp"
#include "distopt/run/options.hpp"
#include "distopt/run/trainer_config.hpp"
#include "test_local_data.hpp"

using namespace distopt;

namespace {

constexpr Index kWorkers = 20;
constexpr Index kRows = 25;  // per worker
constexpr Index kDim = 20;

LocalData make_local(const Placement& pl) {
  return test::local_data_from_rows(pl, kRows, kDim, Task::kBinary, 2,
                                    [](Index r, double* a, double& y) {
                                      test::heterogeneous_logistic_row(r, kRows, kDim, a, y);
                                    });
}

Config make_config(std::map<std::string, std::string> kv) {
  kv.emplace("algorithm", "gd");
  kv.emplace("agents", std::to_string(kWorkers));
  kv.emplace("nonconvex-reg", "0.1");
  kv.emplace("compressor", "topk:2");
  return Config::from_map(train_options(), kv);
}

struct TrainRun {
  Vector x;
  MetricLog log;
  Summary summary;
  double lr = 0;
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

double final_gns(const TrainRun& r) {
  return r.summary.final_row.get("grad_norm_sq");
}

/// The EF21 theoretical step for Top-2 on this problem (what --lr theory computes).
double ef21_theory_step(Communicator& comm, const std::string& feedback) {
  auto cfg = make_config({{"feedback", feedback}, {"lr", "theory"}});
  RunSetup s(comm, cfg);
  return resolve_step_size(*s.ctx, step_size_from(cfg), uplink_options_from(cfg));
}

void report(Communicator& comm, const char* what, const TrainRun& r) {
  if (comm.is_root()) {
    std::printf("  %-34s rounds %5lld  ||grad f||^2 %.3e  bytes_up/worker %.0f\n", what,
                static_cast<long long>(r.summary.rounds_done), final_gns(r),
                r.log.column("bytes_logical").back() / kWorkers);
  }
}

}  // namespace

TEST(TheoryStep, MatchesTheEf21Formula) {
  auto comm = Communicator::world();
  auto cfg = make_config({{"feedback", "ef21"}, {"lr", "theory"}});
  RunSetup s(comm, cfg);
  const auto L = gather_agent_smoothness(*s.ctx);
  ASSERT_EQ(static_cast<Index>(L.size()), kWorkers);
  double am = 0, qm = 0;
  for (double l : L) {
    am += l / kWorkers;
    qm += l * l / kWorkers;
  }
  qm = std::sqrt(qm);
  EXPECT_GT(qm, am * 1.01) << "heterogeneous L_i: the quadratic mean exceeds the arithmetic mean";
  const double delta = 2.0 / kDim;
  const double theta = 1 - std::sqrt(1 - delta), beta = (1 - delta) / theta;
  EXPECT_NEAR(resolve_step_size(*s.ctx, step_size_from(cfg), uplink_options_from(cfg)),
              1.0 / (am + qm * std::sqrt(beta / theta)), 1e-15);
  auto cfgw = make_config({{"feedback", "ef21w"}, {"lr", "theory"}, {"lr-factor", "3"}});
  RunSetup sw(comm, cfgw);
  EXPECT_NEAR(resolve_step_size(*sw.ctx, step_size_from(cfgw), uplink_options_from(cfgw)),
              3.0 / (am + am * std::sqrt(beta / theta)), 1e-15);
}

TEST(ErrorFeedback, Ef21FamilyReachesTargetWhileCompressedGdStalls) {
  auto comm = Communicator::world();
  const double gamma = ef21_theory_step(comm, "ef21");
  const std::string factor = "1";  // exactly the theoretical step
  const std::string rounds = "3000";
  auto run = [&](std::map<std::string, std::string> kv) {
    kv.emplace("rounds", rounds);
    kv.emplace("eval-every", "10");
    kv.emplace("target-metric", "grad_norm_sq<1e-8");
    auto cfg = make_config(kv);
    return train(comm, cfg, trainer_options_from(cfg));
  };
  const TrainRun ef21 = run({{"feedback", "ef21"}, {"lr", "theory"}, {"lr-factor", factor}});
  report(comm, "ef21 topk:2 (theory step)", ef21);
  EXPECT_LT(final_gns(ef21), 1e-8);

  const std::string step = std::to_string(gamma);
  const TrainRun plain = run({{"feedback", "none"}, {"lr", step}});
  report(comm, "no feedback, same step", plain);
  EXPECT_GT(final_gns(plain), 1e-5) << "compressed GD without feedback stalls far above 1e-8";

  const TrainRun ef21w = run({{"feedback", "ef21w"}, {"lr", "theory"}, {"lr-factor", factor}});
  report(comm, "ef21w topk:2 (its theory step)", ef21w);
  EXPECT_LT(final_gns(ef21w), 1e-8);

  const TrainRun ec = run({{"feedback", "econtrol"}, {"econtrol-eta", "0.2"}, {"lr", step}});
  report(comm, "econtrol eta=0.2, same step", ec);
  EXPECT_LT(final_gns(ec), 1e-8);

  const TrainRun ef14 = run({{"feedback", "ef14"}, {"lr", step}});
  report(comm, "ef14, same step", ef14);
  const double g0 = ef14.log.column("grad_norm_sq").front();
  EXPECT_LT(final_gns(ef14), 1e-2 * g0) << "EF14 makes progress";
  EXPECT_LT(final_gns(ef14), 0.1 * final_gns(plain)) << "EF14 beats no feedback";
  // Logical traffic: EF21 sends g⁰ dense (d·8 bytes), then Top-2 (2·12 bytes) per round.
  const double r21 = static_cast<double>(ef21.summary.rounds_done);
  const double down = r21 * kDim * 8;  // gd counts the dense model broadcast downwards
  EXPECT_EQ(ef21.log.column("bytes_logical").back(), kWorkers * (kDim * 8 + (r21 - 1) * 24 + down));
}

TEST(ErrorFeedback, SameTrajectoryAtAnyRankCountAndResumeIsExact) {
  auto world = Communicator::world();
  auto self = Communicator::self();
  for (const char* spec : {"ef21:topk:2", "econtrol:topk:3", "ef14:randk:4", "ef21w:qsgd:2",
                           "none:natural", "ef21:sign"}) {
    const std::string s(spec);
    const auto colon = s.find(':');
    auto cfg = make_config({{"feedback", s.substr(0, colon)},
                            {"compressor", s.substr(colon + 1)},
                            {"lr", "0.5"},
                            {"rounds", "25"},
                            {"eval-every", "25"},
                            {"wire-precision", "float32"}});
    const TrainRun rw = train(world, cfg, trainer_options_from(cfg));
    const TrainRun rs = train(self, cfg, trainer_options_from(cfg));  // all 20 workers on this rank
    EXPECT_EQ((rw.x - rs.x).norm(), 0.0) << spec << ": bitwise identical at any rank count";
    EXPECT_EQ(rw.log.column("bytes_logical"), rs.log.column("bytes_logical")) << spec;
  }
  // Resume from a checkpoint continues bit for bit (agent states, server sum, step counter).
  std::string ckpt = "test_compress_ef_resume.ckpt.h5";
  world.broadcast(ckpt);
  for (const char* fb : {"ef21", "econtrol", "ef14"}) {
    auto cfg = make_config({{"feedback", fb},
                            {"compressor", "randk:3"},
                            {"lr", "0.5"},
                            {"rounds", "16"},
                            {"eval-every", "4"}});
    const TrainRun full = train(world, cfg, trainer_options_from(cfg));
    auto first = trainer_options_from(cfg);
    first.rounds = 10;
    first.checkpoint_every = 6;
    first.checkpoint_path = ckpt;
    train(world, cfg, first);
    auto second = trainer_options_from(cfg);
    second.resume_path = ckpt;
    const TrainRun resumed = train(world, cfg, second);
    EXPECT_EQ((resumed.x - full.x).norm(), 0.0) << fb;
    EXPECT_EQ(resumed.log.column("bytes_logical"), full.log.column("bytes_logical")) << fb;
    world.barrier();
    if (world.is_root()) std::filesystem::remove(ckpt);
  }
}

TEST(ErrorFeedback, PartialParticipationEstimatesTheSubmittersSum) {
  // EF21 uplink, agents' vectors known everywhere: the estimate of each round must equal
  // Σ_{a submitted} w_a g_a with g_a each agent's EF21 state (simulated here for all agents).
  auto comm = Communicator::world();
  const Index n = 5, d = 12;
  const Placement pl(n, comm.size(), comm.rank());
  CompressedUplinkOptions o;
  o.compressor = "topk:3";
  o.feedback = "ef21";
  o.seed = 4;
  CompressedUplink up(comm, Reduction::kOrdered, pl, d, o);
  TopK topk(d, 3, WirePrecision::kFloat64);
  std::vector<Ef21State> ref(static_cast<std::size_t>(n), Ef21State(d));
  const std::vector<std::vector<Index>> rounds = {
      {0, 1, 2, 3, 4}, {0, 2, 4}, {1, 3}, {0, 1, 2, 3, 4}, {0, 1, 2, 3, 4}};
  std::uint64_t step = 0;
  for (const auto& who : rounds) {
    ++step;
    up.begin(d);
    Vector expect = Vector::Zero(d);
    for (Index a : who) {
      RandomStream s(9, static_cast<std::uint64_t>(a), step, Purpose::kUser);
      Vector v(d);
      for (Index j = 0; j < d; ++j) v[j] = s.normal();
      const double w = 0.1 + 0.05 * static_cast<double>(a);
      if (pl.is_local(a)) up.submit(a, v, w);
      auto& st = ref[static_cast<std::size_t>(a)];
      Vector u;
      const bool dense = st.prepare(v, u);
      st.commit(v, u, dense ? u : topk.apply(u, {}));
      expect += w * *st.server_memory();
    }
    Vector est;
    up.finish(est);
    EXPECT_LT((est - expect).norm(), 1e-13 * expect.norm()) << "round " << step;
  }
}

TEST(ErrorFeedback, EControlFirstRoundsMatchAHandComputation) {
  // Two agents (weights 1/2), d = 3, Top-1, η = 1/2, three rounds of given targets t_a^r; every
  // expected value below was worked out by hand from Δ = C(η e + t − h), e ← e + t − h − Δ,
  // h ← h + Δ (all numbers dyadic, so the comparison is exact). Checks both initialisations:
  // `gradient` (h⁰ = t⁰ sent dense, the default) and `zero` (h⁰ = 0).
  auto comm = Communicator::world();
  const Index n = 2, d = 3;
  const Placement pl(n, comm.size(), comm.rank());
  const double t[2][3][3] = {{{3, -1, 2}, {1, 4, 0}, {0, 1, 1}},   // agent 0, rounds 1..3
                             {{0, 2, -1}, {1, 1, 3}, {2, 0, 0}}};  // agent 1
  auto run = [&](bool init_gradient) {
    CompressedUplinkOptions o;
    o.compressor = "topk:1";
    o.feedback = "econtrol";
    o.econtrol_eta = 0.5;
    o.econtrol_init_gradient = init_gradient;
    CompressedUplink up(comm, Reduction::kOrdered, pl, d, o);
    std::vector<Vector> est;
    for (int r = 0; r < 3; ++r) {
      up.begin(d);
      for (Index a = 0; a < n; ++a) {
        if (pl.is_local(a)) up.submit(a, Eigen::Map<const Vector>(t[a][r], d), 0.5);
      }
      Vector e;
      up.finish(e);
      est.push_back(e);
    }
    return est;
  };
  const auto g = run(true);
  // Round 1: h_0 = (3,-1,2), h_1 = (0,2,-1) dense. Round 2: Δ_0 = top1(-2,5,-2) = (0,5,0),
  // Δ_1 = top1(1,-1,4) = (0,0,4), e_0 = (-2,0,-2), e_1 = (1,-1,0). Round 3: Δ_0 = top1(-4,-3,-2),
  // Δ_1 = top1(2.5,-2.5,-3): h_0 = (-1,4,2), h_1 = (0,2,0).
  EXPECT_EQ(g[0], Vector::Map(std::vector<double>{1.5, 0.5, 0.5}.data(), 3));
  EXPECT_EQ(g[1], Vector::Map(std::vector<double>{1.5, 3, 2.5}.data(), 3));
  EXPECT_EQ(g[2], Vector::Map(std::vector<double>{-0.5, 3, 1}.data(), 3));
  const auto z = run(false);
  // Round 1: Δ_0 = top1(3,-1,2) = (3,0,0), Δ_1 = top1(0,2,-1) = (0,2,0), e_0 = (0,-1,2),
  // e_1 = (0,0,-1). Round 2: Δ_0 = top1(-2,3.5,1) = (0,3.5,0), Δ_1 = top1(1,-1,2.5) = (0,0,2.5).
  EXPECT_EQ(z[0], Vector::Map(std::vector<double>{1.5, 1, 0}.data(), 3));
  EXPECT_EQ(z[1], Vector::Map(std::vector<double>{1.5, 2.75, 1.25}.data(), 3));
  // The states themselves, from an EControlState driven by the same rule.
  EControlState s(d, 0.5, true);
  Vector u;
  for (int r = 0; r < 2; ++r) {
    const Vector tv = Eigen::Map<const Vector>(t[0][r], d);
    const bool dense = s.prepare(tv, u);
    EXPECT_EQ(dense, r == 0);
    Vector c = Vector::Zero(d);
    if (dense) {
      c = u;
    } else {
      Index j = 0;
      u.cwiseAbs().maxCoeff(&j);
      c[j] = u[j];
    }
    s.commit(tv, u, c);
  }
  EXPECT_EQ(s.error(), Vector::Map(std::vector<double>{-2, 0, -2}.data(), 3));
  EXPECT_EQ(*s.server_memory(), Vector::Map(std::vector<double>{3, 4, 2}.data(), 3));
}

TEST(ErrorFeedback, OptionsAreValidatedBeforeTraining) {
  auto comm = Communicator::world();
  auto expect_key = [&](std::map<std::string, std::string> kv, const std::string& key) {
    auto cfg = make_config(kv);
    RunSetup s(comm, cfg);
    try {
      make_algorithm(s.config, *s.ctx);
      ADD_FAILURE() << key << " accepted";
    } catch (const ConfigError& e) {
      EXPECT_EQ(e.key(), key) << e.what();
    }
  };
  expect_key({{"compressor", "topk:21"}}, "compressor");  // k > d = 20
  expect_key({{"compressor", "qsgd:0"}}, "compressor");
  expect_key({{"compressor", "gzip"}}, "compressor");
  expect_key({{"compressor", "powersgd:0"}}, "compressor");
  expect_key({{"compressor", "powersgd:1"}}, "compressor");  // logistic: no matrix block
  expect_key({{"feedback", "ef99"}}, "feedback");
  expect_key({{"wire-precision", "half"}}, "wire-precision");
  expect_key({{"feedback", "ef14"}, {"lr", "theory"}}, "lr");
  expect_key({{"feedback", "econtrol"}, {"econtrol-eta", "-1"}}, "econtrol-eta");
  EXPECT_THROW(uplink_options_from(make_config({{"econtrol-init", "ones"}})), ConfigError);
}
