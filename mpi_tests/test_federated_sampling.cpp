// Client sampling, the local schedule, the FedOpt server optimisers, and what a round counts
// (gradient evaluations, logical bytes up/down, client drift), plus option validation.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <set>

#include "distopt/core/error.hpp"
#include "distopt/federated/client_sampler.hpp"
#include "distopt/federated/fedavg.hpp"
#include "distopt/federated/feddyn.hpp"
#include "distopt/federated/federated_options.hpp"
#include "distopt/federated/federated_round.hpp"
#include "distopt/federated/fedprox.hpp"
#include "distopt/federated/fedspeed.hpp"
#include "distopt/federated/local_solver.hpp"
#include "distopt/federated/scaffold.hpp"
#include "distopt/federated/server_optimizer.hpp"
#include "distopt/run/federated_config.hpp"
#include "test_federated_common.hpp"

using namespace fedtest;

TEST(ClientSampler, ParticipationFrequencyMatchesTheRequestedFraction) {
  // N = 200 clients, q = 0.1 (m = 20), R = 4000 rounds. Each client's count is Binomial(R, m/N)
  // (mean 400, sd 18.97); tolerance: every client within 5 sd, and the mean squared z-score within
  // 1 ± 6·sqrt(2/N) (its sd is about sqrt(2/N) for N nearly independent clients).
  const Index n = 200;
  const std::int64_t rounds = 4000;
  auto cfg = Config::from_map(train_options(), {{"participation", "0.1"}, {"agents", "200"}});
  const Index m = clients_per_round_from(cfg, n);
  ASSERT_EQ(m, 20);
  ClientSampler s(n, m, 5);
  std::vector<double> count(static_cast<std::size_t>(n), 0.0);
  for (std::int64_t t = 1; t <= rounds; ++t) {
    const auto& a = s.sample(t);
    ASSERT_EQ(static_cast<Index>(a.size()), m);
    ASSERT_TRUE(std::is_sorted(a.begin(), a.end()));
    ASSERT_EQ(std::set<Index>(a.begin(), a.end()).size(), a.size());
    ASSERT_GE(a.front(), 0);
    ASSERT_LT(a.back(), n);
    for (Index i : a) count[static_cast<std::size_t>(i)] += 1;
  }
  const double p = static_cast<double>(m) / static_cast<double>(n);
  const double mean = p * static_cast<double>(rounds);
  const double sd = std::sqrt(static_cast<double>(rounds) * p * (1 - p));
  double z2 = 0;
  for (double c : count) {
    EXPECT_LT(std::abs(c - mean), 5 * sd) << "a client's participation is off";
    z2 += (c - mean) * (c - mean) / (sd * sd);
  }
  z2 /= static_cast<double>(n);
  EXPECT_NEAR(z2, 1.0, 6 * std::sqrt(2.0 / static_cast<double>(n)));
}

TEST(ClientSampler, SameSetOnEveryRankAndIndependentOfHistory) {
  auto comm = Communicator::world();
  ClientSampler a(1000, 37, 11), b(1000, 37, 11);
  // b draws the rounds in another order (a resumed run starts mid-way): same sets.
  const std::vector<Index> r9 = b.sample(9);
  for (std::int64_t t = 1; t <= 9; ++t) a.sample(t);
  EXPECT_EQ(a.sample(9), r9);
  EXPECT_NE(a.sample(10), r9);
  // Every rank draws the same clients.
  std::vector<double> mine(r9.begin(), r9.end()), all = comm.allgatherv(std::span<const double>(mine));
  for (int r = 0; r < comm.size(); ++r) {
    for (std::size_t i = 0; i < mine.size(); ++i) EXPECT_EQ(all[static_cast<std::size_t>(r) * mine.size() + i], mine[i]);
  }
  // Full participation: everyone, every round.
  ClientSampler full(6, 6, 1);
  EXPECT_EQ(full.sample(3), (std::vector<Index>{0, 1, 2, 3, 4, 5}));
}

TEST(ClientSampler, ClientsPerRoundFromOptions) {
  auto cfg = [](std::map<std::string, std::string> kv) { return Config::from_map(train_options(), kv); };
  EXPECT_EQ(clients_per_round_from(cfg({{"participation", "0.1"}}), 1000), 100);
  EXPECT_EQ(clients_per_round_from(cfg({{"participation", "0.0001"}}), 1000), 1);
  EXPECT_EQ(clients_per_round_from(cfg({{"clients-per-round", "7"}}), 1000), 7);
  EXPECT_EQ(clients_per_round_from(cfg({}), 50), 50);
  auto key_of = [&](std::map<std::string, std::string> kv) {
    try {
      clients_per_round_from(cfg(kv), 100);
    } catch (const ConfigError& e) {
      return e.key();
    }
    return std::string("none");
  };
  EXPECT_EQ(key_of({{"participation", "1.5"}}), "participation");
  EXPECT_EQ(key_of({{"participation", "0"}}), "participation");
  EXPECT_EQ(key_of({{"clients-per-round", "101"}}), "clients-per-round");
  EXPECT_EQ(key_of({{"clients-per-round", "5"}, {"participation", "0.5"}}), "clients-per-round");
}

TEST(ServerOptimizer, StepsMatchFedOptAlgorithm2) {
  const Vector d1 = (Vector(2) << 0.5, -2.0).finished();
  const Vector d2 = (Vector(2) << -1.0, 0.25).finished();
  ServerOptimizerOptions o;
  o.lr = 0.1;
  o.momentum = 0.8;
  o.beta1 = 0.9;
  o.beta2 = 0.99;
  o.tau = 0.01;
  auto run = [&](ServerOptKind k) {
    o.kind = k;
    ServerOptimizer s(o);
    s.initialize(2);
    Vector x = Vector::Zero(2);
    s.apply(d1, x);
    s.apply(d2, x);
    return x;
  };
  // Hand-computed, coordinate by coordinate.
  EXPECT_TRUE(run(ServerOptKind::kSgd).isApprox(0.1 * (d1 + d2), 1e-15));
  {  // m1 = d1, m2 = 0.8 d1 + d2; x = 0.1 (m1 + m2)
    const Vector m2 = 0.8 * d1 + d2;
    EXPECT_TRUE(run(ServerOptKind::kMomentum).isApprox(0.1 * (d1 + m2), 1e-15));
  }
  const double t2 = o.tau * o.tau;
  for (auto kind : {ServerOptKind::kAdagrad, ServerOptKind::kAdam, ServerOptKind::kYogi}) {
    Vector x = Vector::Zero(2);
    for (Index j = 0; j < 2; ++j) {
      double m = 0, v = t2, xj = 0;
      for (double dj : {d1[j], d2[j]}) {
        m = 0.9 * m + 0.1 * dj;
        if (kind == ServerOptKind::kAdagrad) v = v + dj * dj;
        if (kind == ServerOptKind::kAdam) v = 0.99 * v + 0.01 * dj * dj;
        if (kind == ServerOptKind::kYogi) v = v - 0.01 * dj * dj * (v - dj * dj > 0 ? 1.0 : -1.0);
        xj += 0.1 * m / (std::sqrt(v) + o.tau);
      }
      x[j] = xj;
    }
    EXPECT_TRUE(run(kind).isApprox(x, 1e-14)) << static_cast<int>(kind);
  }
}

TEST(LocalSolver, SchedulesDrawTheDocumentedBatches) {
  // Labels carry the row index, so the direction callback sees which rows each batch holds.
  const Index n = 23;
  RowMatrix X = RowMatrix::Zero(n + 5, 2);
  Vector y(n + 5);
  for (Index r = 0; r < y.size(); ++r) y[r] = static_cast<double>(r);
  Dataset ds(std::move(X), std::move(y), Task::kRegression, 1);
  const DataBlock shard = ds.block(5, n);  // rows 5..27
  std::vector<std::vector<Index>> batches;
  LocalSolver::Direction record = [&](const Vector&, const DataBlock& b, Vector& d) {
    std::vector<Index> rows;
    for (Index i = 0; i < b.rows(); ++i) rows.push_back(static_cast<Index>(b.labels()[i]));
    batches.push_back(rows);
    d.setOnes(2);
    return 2;
  };
  std::uint64_t evals = 0;
  Vector yv = Vector::Zero(2);

  // Epochs: E ⌈n/B⌉ steps, each epoch covers every row exactly once.
  LocalSolver epochs({.local_steps = 1, .local_epochs = 3, .batch_size = 5}, 7);
  EXPECT_EQ(epochs.steps_for(n), 3 * 5);
  EXPECT_EQ(epochs.run(4, 2, shard, 0.5, yv, record, &evals), 15);
  EXPECT_EQ(evals, 30u);
  EXPECT_TRUE(yv.isApprox(Vector::Constant(2, -0.5 * 15)));
  ASSERT_EQ(batches.size(), 15u);
  for (int e = 0; e < 3; ++e) {
    std::multiset<Index> seen;
    for (int k = 0; k < 5; ++k) {
      const auto& b = batches[static_cast<std::size_t>(e * 5 + k)];
      EXPECT_EQ(static_cast<Index>(b.size()), k < 4 ? 5 : 3);
      seen.insert(b.begin(), b.end());
    }
    std::multiset<Index> all;
    for (Index r = 5; r < 5 + n; ++r) all.insert(r);
    EXPECT_EQ(seen, all) << "epoch " << e;
  }

  // Steps: K batches of B distinct rows of the shard; the same (client, round) redraws the same
  // batches, another round others.
  LocalSolver steps({.local_steps = 6, .local_epochs = 0, .batch_size = 4}, 7);
  EXPECT_EQ(steps.steps_for(n), 6);
  batches.clear();
  steps.run(4, 2, shard, 0.1, yv, record, &evals);
  const auto first = batches;
  ASSERT_EQ(first.size(), 6u);
  for (const auto& b : first) {
    ASSERT_EQ(b.size(), 4u);
    EXPECT_EQ(std::set<Index>(b.begin(), b.end()).size(), 4u);
    for (Index r : b) EXPECT_TRUE(r >= 5 && r < 5 + n);
  }
  batches.clear();
  LocalSolver other({.local_steps = 6, .local_epochs = 0, .batch_size = 4}, 7);
  other.run(4, 2, shard, 0.1, yv, record, &evals);
  EXPECT_EQ(batches, first);
  batches.clear();
  other.run(4, 3, shard, 0.1, yv, record, &evals);
  EXPECT_NE(batches, first);

  // Full batch (B = 0 or B >= n): the whole shard every step; an empty client takes no step.
  LocalSolver full({.local_steps = 3, .local_epochs = 0, .batch_size = 0}, 7);
  batches.clear();
  EXPECT_EQ(full.run(4, 2, shard, 0.1, yv, record, &evals), 3);
  for (const auto& b : batches) EXPECT_EQ(static_cast<Index>(b.size()), n);
  EXPECT_EQ(full.steps_for(0), 0);
}

namespace {

/// One evaluation after `rounds` rounds through the Trainer; returns the last metric row.
MetricRow one_run(const Problem& p, std::map<std::string, std::string> kv, std::int64_t rounds) {
  kv["rounds"] = std::to_string(rounds);
  kv["eval-every"] = std::to_string(rounds);
  auto comm = Communicator::world();
  const Config cfg = make_config(p, kv);
  return train(comm, p, cfg, trainer_options_from(cfg)).summary.final_row;
}

}  // namespace

TEST(FederatedRound, CountsGradientsBytesAndDrift) {
  const Problem p{.clients = 9, .dim = 6, .base_rows = 20};
  const double d = static_cast<double>(p.dim), K = 3, m = 4, rounds = 5;  // participation 0.45 of 9
  const std::map<std::string, std::string> base = {{"local-steps", "3"}, {"clients-per-round", "4"},
                                                   {"batch-size", "5"}};
  auto with = [&](std::map<std::string, std::string> kv) {
    kv.insert(base.begin(), base.end());
    return kv;
  };
  struct Case {
    std::map<std::string, std::string> kv;
    double grads_per_step, up_vectors, down_vectors;
  };
  const std::vector<Case> cases = {
      {{{"algorithm", "fedavg"}}, 1, 1, 1},
      {{{"algorithm", "fedprox"}}, 1, 1, 1},
      {{{"algorithm", "scaffold"}}, 1, 2, 2},  // up y−x and Δc_i; down x and c
      {{{"algorithm", "feddyn"}}, 1, 1, 1},
      {{{"algorithm", "fedspeed"}}, 2, 1, 1},                           // two gradients per step
      {{{"algorithm", "fedspeed"}, {"fedspeed-alpha", "0"}}, 1, 1, 1},  // g2 unused: not computed
      {{{"algorithm", "fedspeed"}, {"fedspeed-server", "active"}}, 2, 1, 1},
      {{{"algorithm", "fedspeed-sim"}}, 2, 1, 1},
  };
  for (const auto& c : cases) {
    const MetricRow row = one_run(p, with(c.kv), static_cast<std::int64_t>(rounds));
    const std::string name = c.kv.begin()->second;
    EXPECT_EQ(row.get("grad_evals"), rounds * m * K * c.grads_per_step) << name;
    EXPECT_EQ(row.get("active_clients"), m) << name;
    EXPECT_EQ(row.get("bytes_up_round"), m * c.up_vectors * d * 8) << name;
    EXPECT_EQ(row.get("bytes_down_round"), m * c.down_vectors * d * 8) << name;
    EXPECT_EQ(row.get("bytes_up"), rounds * m * c.up_vectors * d * 8) << name;
    EXPECT_EQ(row.get("bytes_down"), rounds * m * c.down_vectors * d * 8) << name;
    EXPECT_GT(row.get("client_drift"), 0) << name;
  }
  // Local epochs: client i makes E ⌈n_i/B⌉ steps.
  double steps = 0;
  for (Index i = 0; i < p.clients; ++i) steps += 2 * std::ceil(static_cast<double>(p.rows(i)) / 5.0);
  const MetricRow row = one_run(p, {{"algorithm", "fedavg"}, {"local-epochs", "2"}, {"batch-size", "5"}}, 1);
  EXPECT_EQ(row.get("grad_evals"), steps);
}

TEST(FederatedRound, ClientDriftIsTheMeanSquaredLocalMovement) {
  // Full participation, full-batch local GD from x^1 = 0: the drift of round 1 is
  // mean_i ‖y_i − 0‖² with y_i from K steps of y ← y − η A_i (y − b_i), computed here.
  const Problem p;
  const double lr = 0.1;
  const int K = 5;
  double drift = 0;
  for (Index i = 0; i < p.clients; ++i) {
    Matrix A;
    Vector b;
    p.quadratic(i, A, b);
    Vector y = Vector::Zero(p.dim);
    for (int k = 0; k < K; ++k) y -= lr * A * (y - b);
    drift += y.squaredNorm() / static_cast<double>(p.clients);
  }
  const MetricRow row = one_run(p, {{"algorithm", "fedavg"}}, 1);
  EXPECT_NEAR(row.get("client_drift"), drift, 1e-12 * drift);
  EXPECT_EQ(row.get("lr_local"), lr);
  // --lr-decay: η_l(t) = lr · decay^{t−1}.
  const MetricRow r3 = one_run(p, {{"algorithm", "fedavg"}, {"lr-decay", "0.5"}}, 3);
  EXPECT_DOUBLE_EQ(r3.get("lr_local"), lr * 0.25);
}

TEST(FederatedOptions, InvalidValuesAreReportedWithTheirName) {
  const Problem p;
  auto comm = Communicator::world();
  auto key_of = [&](std::map<std::string, std::string> kv) {
    try {
      const Config cfg = make_config(p, kv);
      RunSetup s(comm, p, cfg);
      make_algorithm(s.config, s.ctx);
    } catch (const ConfigError& e) {
      return e.key();
    }
    return std::string("none");
  };
  EXPECT_EQ(key_of({{"algorithm", "fedavg"}}), "none");
  EXPECT_EQ(key_of({{"algorithm", "fedavg"}, {"participation", "1.5"}}), "participation");
  EXPECT_EQ(key_of({{"algorithm", "fedavg"}, {"local-steps", "0"}}), "local-steps");
  EXPECT_EQ(key_of({{"algorithm", "fedavg"}, {"local-epochs", "2"}, {"local-steps", "3"}}), "local-epochs");
  EXPECT_EQ(key_of({{"algorithm", "fedavg"}, {"server-opt", "lamb"}}), "server-opt");
  EXPECT_EQ(key_of({{"algorithm", "fedavg"}, {"lr-global", "0"}}), "lr-global");
  EXPECT_EQ(key_of({{"algorithm", "fedavg"}, {"lr-decay", "0"}}), "lr-decay");
  EXPECT_EQ(key_of({{"algorithm", "fedavg"}, {"server-beta2", "1"}}), "server-beta2");
  EXPECT_EQ(key_of({{"algorithm", "fedprox"}, {"prox-mu", "-1"}}), "prox-mu");
  EXPECT_EQ(key_of({{"algorithm", "feddyn"}, {"feddyn-alpha", "0"}}), "feddyn-alpha");
  EXPECT_EQ(key_of({{"algorithm", "fedspeed"}, {"fedspeed-alpha", "1.5"}}), "fedspeed-alpha");
  EXPECT_EQ(key_of({{"algorithm", "fedspeed"}, {"fedspeed-lambda", "0"}}), "fedspeed-lambda");
  EXPECT_EQ(key_of({{"algorithm", "fedspeed"}, {"fedspeed-server", "some"}}), "fedspeed-server");
  EXPECT_EQ(key_of({{"algorithm", "fedspeed-sim"}, {"fedspeed-server", "active"}}),
            "fedspeed-server");
  EXPECT_EQ(key_of({{"algorithm", "fedavg"}, {"sampling", "poisson"}}), "sampling");
  EXPECT_EQ(
      key_of({{"algorithm", "fedavg"}, {"sampling", "bernoulli"}, {"clients-per-round", "3"}}),
      "sampling");
  EXPECT_EQ(key_of({{"algorithm", "fedavg"}, {"sampling", "bernoulli"}, {"participation", "0"}}),
            "participation");
  EXPECT_EQ(key_of({{"algorithm", "fedavg"}, {"clip-norm", "-1"}}), "clip-norm");
  EXPECT_EQ(key_of({{"algorithm", "fedavg"}, {"weight-decay", "-0.1"}}), "weight-decay");
  EXPECT_EQ(key_of({{"algorithm", "fedavgg"}}), "algorithm");
}

TEST(FederatedOptions, MethodsBuiltFromTypedOptionsMatchTheCommandLine) {
  // The same options given as typed structs (no Config read by the method) and as key=value
  // pairs through make_algorithm: bit-identical models after a few rounds.
  const Problem p;
  FederatedOptions f;
  f.clients_per_round = 5;
  f.schedule = {.local_steps = 4, .local_epochs = 0, .batch_size = 7};
  f.lr = 0.05;
  f.lr_decay = 0.9;
  f.server.kind = ServerOptKind::kAdam;
  f.server.lr = 0.3;
  const std::map<std::string, std::string> kv = {
      {"clients-per-round", "5"}, {"local-steps", "4"},   {"batch-size", "7"}, {"lr", "0.05"},
      {"lr-decay", "0.9"},        {"server-opt", "adam"}, {"lr-global", "0.3"}};
  auto with = [&](std::map<std::string, std::string> extra) {
    extra.insert(kv.begin(), kv.end());
    return extra;
  };
  struct Case {
    std::map<std::string, std::string> kv;
    std::function<std::unique_ptr<Algorithm>(RunContext&)> make;
  };
  const std::vector<Case> cases = {
      {{{"algorithm", "fedavg"}},
       [&](RunContext& ctx) { return std::make_unique<FedAvg>(ctx, f); }},
      {{{"algorithm", "fedprox"}, {"prox-mu", "0.2"}},
       [&](RunContext& ctx) {
         return std::make_unique<FedProx>(ctx, FedProxOptions{.federated = f, .mu = 0.2});
       }},
      {{{"algorithm", "scaffold"}},
       [&](RunContext& ctx) { return std::make_unique<Scaffold>(ctx, f); }},
      {{{"algorithm", "feddyn"}, {"feddyn-alpha", "0.3"}},
       [&](RunContext& ctx) {
         return std::make_unique<FedDyn>(ctx, FedDynOptions{.federated = f, .alpha = 0.3});
       }},
      {{{"algorithm", "fedspeed"}, {"fedspeed-alpha", "0.5"}, {"fedspeed-normalize", "false"}},
       [&](RunContext& ctx) {
         FedSpeedOptions o{.federated = f};
         o.alpha = 0.5;
         o.normalize = false;
         return std::make_unique<FedSpeed>(ctx, o);
       }},
      {{{"algorithm", "fedspeed"}},
       [&](RunContext& ctx) {
         return std::make_unique<FedSpeed>(ctx, FedSpeedOptions{.federated = f});
       }},
      {{{"algorithm", "fedspeed"}, {"fedspeed-server", "active"}, {"fedspeed-alpha", "0.5"}},
       [&](RunContext& ctx) {
         FedSpeedOptions o{.federated = f, .alpha = 0.5, .server = FedSpeedServer::kActive};
         return std::make_unique<FedSpeed>(ctx, o);
       }},
      {{{"algorithm", "fedspeed-sim"}, {"fedspeed-rho", "0.2"}},
       [&](RunContext& ctx) {
         return std::make_unique<FedSpeed>(ctx, FedSpeedOptions{.federated = f, .rho = 0.2},
                                           "fedspeed-sim");
       }},
      {{{"algorithm", "fedavg"},
        {"sampling", "bernoulli"},
        {"participation", "0.5"},
        {"clients-per-round", "0"},
        {"clip-norm", "0.5"},
        {"weight-decay", "0.01"}},
       [&](RunContext& ctx) {
         FederatedOptions g = f;
         g.clients_per_round = 0;
         g.participation = 0.5;
         g.sampling = SamplingScheme::kBernoulli;
         g.schedule.clip_norm = 0.5;
         g.schedule.weight_decay = 0.01;
         return std::make_unique<FedAvg>(ctx, g);
       }},
  };
  for (const auto& c : cases) {
    const std::string name = c.kv.begin()->second;
    auto comm = Communicator::world();
    const Vector cli = run_rounds(comm, p, make_config(p, with(c.kv)), 4);
    RunSetup s(comm, p, make_config(p, {}));
    auto algo = c.make(s.ctx);
    EXPECT_EQ(algo->name(), name);
    algo->initialize(Vector::Zero(p.dim));
    for (std::int64_t t = 1; t <= 4; ++t) algo->step(t);
    EXPECT_EQ(algo->model(), cli) << name;
  }
}

TEST(FederatedOptions, TypedValidateNamesTheCommandLineKey) {
  auto key_of = [](const std::function<void()>& f) {
    try {
      f();
    } catch (const ConfigError& e) {
      return e.key();
    }
    return std::string("none");
  };
  auto fed = [&](const std::function<void(FederatedOptions&)>& set) {
    return key_of([&] {
      FederatedOptions o;
      set(o);
      o.validate();
    });
  };
  EXPECT_EQ(fed([](FederatedOptions&) {}), "none");
  EXPECT_EQ(fed([](FederatedOptions& o) { o.participation = 1.5; }), "participation");
  EXPECT_EQ(fed([](FederatedOptions& o) { o.participation = 0; }), "participation");
  EXPECT_EQ(fed([](FederatedOptions& o) { o.clients_per_round = -1; }), "clients-per-round");
  EXPECT_EQ(fed([](FederatedOptions& o) {
              o.clients_per_round = 3;
              o.participation = 0.5;
            }),
            "clients-per-round");
  EXPECT_EQ(fed([](FederatedOptions& o) { o.schedule.local_steps = 0; }), "local-steps");
  EXPECT_EQ(fed([](FederatedOptions& o) { o.schedule.local_epochs = -1; }), "local-epochs");
  EXPECT_EQ(fed([](FederatedOptions& o) { o.schedule.batch_size = -1; }), "batch-size");
  EXPECT_EQ(fed([](FederatedOptions& o) { o.lr = 0; }), "lr");
  EXPECT_EQ(fed([](FederatedOptions& o) { o.lr_decay = 0; }), "lr-decay");
  EXPECT_EQ(fed([](FederatedOptions& o) { o.lr_decay = 1.5; }), "lr-decay");
  EXPECT_EQ(fed([](FederatedOptions& o) { o.server.lr = 0; }), "lr-global");
  EXPECT_EQ(fed([](FederatedOptions& o) { o.server.momentum = 1; }), "server-momentum");
  EXPECT_EQ(fed([](FederatedOptions& o) { o.server.beta1 = -0.1; }), "server-beta1");
  EXPECT_EQ(fed([](FederatedOptions& o) { o.server.beta2 = 1; }), "server-beta2");
  EXPECT_EQ(fed([](FederatedOptions& o) { o.server.tau = 0; }), "server-tau");
  EXPECT_EQ(fed([](FederatedOptions& o) { o.uplink.feedback = "ef99"; }), "feedback");
  EXPECT_EQ(key_of([] { ClientSampler::per_round(1.0, 11, 10); }), "clients-per-round");
  EXPECT_EQ(ClientSampler::per_round(0.25, 0, 10), 3);
  EXPECT_EQ(key_of([] { FedProxOptions{.mu = -1}.validate(); }), "prox-mu");
  EXPECT_EQ(key_of([] { FedDynOptions{.alpha = 0}.validate(); }), "feddyn-alpha");
  EXPECT_EQ(key_of([] { FedSpeedOptions{.lambda = 0}.validate(); }), "fedspeed-lambda");
  EXPECT_EQ(key_of([] { FedSpeedOptions{.rho = -1}.validate(); }), "fedspeed-rho");
  EXPECT_EQ(key_of([] { FedSpeedOptions{.alpha = 1.5}.validate(); }), "fedspeed-alpha");
  // α unset: 1 (the authors' ESAM step) for --fedspeed-server all, 0.9 for active.
  EXPECT_EQ(FedSpeedOptions{}.alpha_used(), 1.0);
  EXPECT_EQ(FedSpeedOptions{.server = FedSpeedServer::kActive}.alpha_used(), 0.9);
  EXPECT_EQ(FedSpeedOptions{.alpha = 0.5}.alpha_used(), 0.5);
  EXPECT_EQ(key_of([] { FedSpeedOptions{.alpha = 0.5}.validate(); }), "none");
  EXPECT_EQ(fed([](FederatedOptions& o) { o.schedule.clip_norm = -1; }), "clip-norm");
  EXPECT_EQ(fed([](FederatedOptions& o) { o.schedule.weight_decay = -1; }), "weight-decay");
  EXPECT_EQ(fed([](FederatedOptions& o) {
              o.sampling = SamplingScheme::kBernoulli;
              o.clients_per_round = 3;
            }),
            "sampling");
}
