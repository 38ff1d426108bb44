// The options that set up other simulators' experiments (docs/guide-federated.md, "Reproducing
// other simulators"):
//  * --sampling bernoulli: each client active with probability p, an empty draw redrawn
//    (FL-Simulator's server/server.py): the empirical frequency is p/(1 − (1 − p)^N), every round
//    is non-empty, and the set of a round is the documented function of (seed, round), so it is
//    the same at any rank count (the model's bitwise equality across rank counts is in
//    test_federated_resume);
//  * --clip-norm, --weight-decay: two local steps of FedAvg equal the hand-computed
//    torch.nn.utils.clip_grad_norm_ + SGD(weight_decay) steps on the quadratics, from the
//    closed-form gradients A_i (y − b_i).
#include <gtest/gtest.h>

#include <cmath>

#include "distopt/core/random.hpp"
#include "distopt/federated/client_sampler.hpp"
#include "distopt/federated/fedavg.hpp"
#include "test_federated_common.hpp"

using namespace fedtest;

namespace {

TEST(BernoulliSampling, FrequencyIsPConditionedOnANonEmptyRound) {
  const Index n = 20;
  const double p = 0.1;
  ClientSampler s = ClientSampler::bernoulli(n, p, 3);
  EXPECT_EQ(s.scheme(), SamplingScheme::kBernoulli);
  const int rounds = 20000;
  std::vector<int> hits(static_cast<std::size_t>(n), 0);
  std::map<std::size_t, int> sizes;
  for (int t = 1; t <= rounds; ++t) {
    const auto& a = s.sample(t);
    ASSERT_FALSE(a.empty()) << "round " << t;
    ASSERT_TRUE(std::is_sorted(a.begin(), a.end()));
    ++sizes[a.size()];
    for (Index i : a) ++hits[static_cast<std::size_t>(i)];
  }
  // P(i ∈ S) = p / (1 − (1 − p)^N) = 0.11384 for p = 0.1, N = 20 (sd of one client's frequency
  // over 20000 rounds: 0.0022; of the mean over clients: 0.0005).
  const double expected = p / (1.0 - std::pow(1.0 - p, static_cast<double>(n)));
  double mean = 0;
  for (int h : hits) {
    const double f = static_cast<double>(h) / rounds;
    EXPECT_NEAR(f, expected, 0.012);
    mean += f / static_cast<double>(n);
  }
  EXPECT_NEAR(mean, expected, 0.003);
  // |S| varies: Binomial(20, 0.1) given >= 1, so sizes 1 to 5 all occur.
  for (std::size_t k = 1; k <= 5; ++k) EXPECT_GT(sizes[k], 0) << "size " << k;
  // p = 1: every client, every round.
  ClientSampler all = ClientSampler::bernoulli(n, 1.0, 3);
  EXPECT_EQ(static_cast<Index>(all.sample(4).size()), n);
}

TEST(BernoulliSampling, RoundSetIsTheDocumentedFunctionOfSeedAndRound) {
  // Client i is active iff the i-th uniform of the stream (seed, attempt, round, kSampling) is
  // below p; attempt counts the empty draws. Recomputed here from RandomStream alone, so every
  // rank and every rank count (and a resumed run) gets these sets.
  const Index n = 15;
  const double p = 0.05;  // empty draws are frequent: (0.95)^15 = 0.46
  ClientSampler s = ClientSampler::bernoulli(n, p, 42);
  int redrawn = 0;
  for (std::int64_t t = 1; t <= 300; ++t) {
    std::vector<Index> expect;
    for (std::uint64_t attempt = 0; expect.empty(); ++attempt) {
      RandomStream rng(42, attempt, static_cast<std::uint64_t>(t), Purpose::kSampling);
      for (Index i = 0; i < n; ++i) {
        if (rng.uniform() < p) expect.push_back(i);
      }
      if (expect.empty()) ++redrawn;
    }
    EXPECT_EQ(s.sample(t), expect) << "round " << t;
  }
  EXPECT_GT(redrawn, 50);
  // Same on every rank of this run.
  auto comm = Communicator::world();
  std::vector<double> sig(1, 0.0);
  for (std::int64_t t = 1; t <= 50; ++t) {
    for (Index i : s.sample(t)) sig[0] += static_cast<double>((t * 31 + i) % 97);
  }
  std::vector<double> lo = sig, hi = sig;
  comm.allreduce_min(std::span<double>(lo));
  comm.allreduce_max(std::span<double>(hi));
  EXPECT_EQ(lo[0], hi[0]);
}

TEST(BernoulliSampling, FedAvgRoundsUseTheSampledClients) {
  const Problem p{.clients = 12, .dim = 3, .base_rows = 20};
  auto comm = Communicator::world();
  RunSetup s(
      comm, p,
      make_config(p,
                  {{"algorithm", "fedavg"}, {"sampling", "bernoulli"}, {"participation", "0.3"}}));
  auto algo = make_algorithm(s.config, s.ctx);
  auto* fed = dynamic_cast<FederatedRound*>(algo.get());
  ASSERT_NE(fed, nullptr);
  algo->initialize(Vector::Zero(p.dim));
  ClientSampler ref = ClientSampler::bernoulli(p.clients, 0.3, s.ctx.seed);
  for (std::int64_t t = 1; t <= 20; ++t) {
    algo->step(t);
    EXPECT_EQ(fed->last_active(), ref.sample(t)) << "round " << t;
  }
}

/// torch.nn.utils.clip_grad_norm_(max_norm = c) on one vector.
Vector torch_clip(const Vector& g, double c) {
  if (c <= 0) return g;
  const double coef = c / (g.norm() + 1e-6);
  return coef < 1.0 ? Vector(coef * g) : g;
}

TEST(LocalStepRule, ClipAndWeightDecayEqualTheHandComputedTorchSteps) {
  const Problem p{.clients = 4, .dim = 3, .base_rows = 20};
  const double lr = 0.1;
  struct Case {
    double clip, wd;
  };
  for (const Case c : {Case{0.3, 0}, Case{0, 0.05}, Case{0.3, 0.05}, Case{1e6, 0.05}}) {
    // Expected: every client from x0 = 0 takes two steps y ← y − η (clip(∇f_i(y)) + w y), and
    // the server averages with p_i ∝ n_i.
    const auto w = p.weights(false);
    Vector expected = Vector::Zero(p.dim);
    bool clipped = false;
    for (Index i = 0; i < p.clients; ++i) {
      Matrix A;
      Vector b;
      p.quadratic(i, A, b);
      Vector y = Vector::Zero(p.dim);
      for (int k = 0; k < 2; ++k) {
        const Vector g = A * (y - b);
        clipped = clipped || (c.clip > 0 && g.norm() > c.clip);
        y -= lr * (torch_clip(g, c.clip) + c.wd * y);
      }
      expected += w[static_cast<std::size_t>(i)] * y;
    }
    if (c.clip > 0 && c.clip < 1e6) {
      ASSERT_TRUE(clipped) << "the case must exercise the clip";
    }
    auto comm = Communicator::world();
    const Vector x = run_rounds(comm, p,
                                make_config(p, {{"algorithm", "fedavg"},
                                                {"local-steps", "2"},
                                                {"clip-norm", std::to_string(c.clip)},
                                                {"weight-decay", std::to_string(c.wd)}}),
                                1);
    EXPECT_LT(rel_diff(x, expected), 1e-13) << "clip " << c.clip << " wd " << c.wd;
    // Weight decay is not in the objective: the same run without it differs.
    if (c.wd > 0) {
      const Vector x0 = run_rounds(comm, p,
                                   make_config(p, {{"algorithm", "fedavg"},
                                                   {"local-steps", "2"},
                                                   {"clip-norm", std::to_string(c.clip)}}),
                                   1);
      EXPECT_GT(rel_diff(x, x0), 1e-6);
    }
  }
}

}  // namespace
