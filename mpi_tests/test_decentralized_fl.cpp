// Decentralized federated learning (--algorithm dfedavg | dfedsam, --gossip-steps Q):
//  (a) K = 1, full batch, no SAM: DFedAvg is the synchronous gossip baseline (--algorithm gossip,
//      gradient step then Q gossip steps), bit for bit;
//  (b) the gossip step contracts the consensus distance as the spectral gap says: with W built in
//      the test from the graph and λ = max(|λ2(W)|, |λn(W)|) from Eigen's eigensolver, Q steps
//      give at most λ^{2Q} times the initial distance, and exactly λ^{2Q} on λ's eigenvector;
//      more gossip steps per round leave the clients closer together;
//      DFedSAM's first round equals a hand computation (SAM steps, then W by hand);
//  (c) logical bytes per agent and per directed edge, and the physical MPI bytes, exact;
//  (d) the same client models (bitwise) at any rank count with --reduction ordered;
//  (e) resume from a checkpoint equals the uninterrupted run bit for bit.
#include <gtest/gtest.h>

#include <Eigen/Eigenvalues>
#include <cmath>
#include <filesystem>

#include "distopt/core/error.hpp"
#include "distopt/federated/decentralized_fl.hpp"
#include "distopt/gossip/sync_gossip.hpp"
#include "distopt/run/decentralized_fl_config.hpp"
#include "distopt/topology/gossip_mixer.hpp"
#include "distopt/topology/graph_spec.hpp"
#include "test_federated_common.hpp"
#include "test_gossip_problems.hpp"

using namespace distopt;

namespace {

/// Every rank's rows of `local` (a placement's local rows), concatenated in rank order.
RowMatrix gather_rows(Communicator& comm, const Placement& pl, const RowMatrix& local) {
  std::vector<int> counts;
  for (int r = 0; r < comm.size(); ++r)
    counts.push_back(static_cast<int>(pl.count(r) * local.cols()));
  const auto all =
      comm.allgatherv(std::span<const double>(local.data(), static_cast<std::size_t>(local.size())),
                      std::span<const int>(counts));
  RowMatrix X(pl.agents(), local.cols());
  std::copy(all.begin(), all.end(), X.data());
  return X;
}

/// (1/n) Σ ‖x_i − x̄‖² of the rows of X, computed here.
double consensus_of(const RowMatrix& X) {
  const Vector mean = X.colwise().mean().transpose();
  double s = 0;
  for (Index i = 0; i < X.rows(); ++i) s += (X.row(i).transpose() - mean).squaredNorm();
  return s / static_cast<double>(X.rows());
}

/// W of Metropolis–Hastings (Xiao & Boyd) from the graph's degrees, written here independently of
/// the topology layer: w_ij = 1/(1 + max(d_i, d_j)) on edges, w_ii = 1 − Σ_j w_ij.
Matrix metropolis_by_hand(const Graph& g) {
  const Index n = g.nodes();
  std::vector<Index> deg(static_cast<std::size_t>(n), 0);
  for (const Edge& e : g.edges()) {
    ++deg[static_cast<std::size_t>(e.u)];
    ++deg[static_cast<std::size_t>(e.v)];
  }
  Matrix W = Matrix::Zero(n, n);
  for (const Edge& e : g.edges()) {
    const double w =
        1.0 / (1.0 + static_cast<double>(std::max(deg[static_cast<std::size_t>(e.u)],
                                                  deg[static_cast<std::size_t>(e.v)])));
    W(e.u, e.v) = W(e.v, e.u) = w;
  }
  for (Index i = 0; i < n; ++i) W(i, i) = 1.0 - (W.row(i).sum() - W(i, i));
  return W;
}

DecentralizedFL& as_dfl(Algorithm& a) {
  return dynamic_cast<DecentralizedFL&>(a);
}

}  // namespace

// (a) DFedAvg with one full-batch local step and no SAM is decentralized gradient descent with
// Q gossip steps per round: the gossip baseline's update x ← W^Q (x − γ ∇F(x)) with the same
// order (gradient, then mixing) and, with uniform weights on n = 16 nodes, F_i = n p_i f_i = f_i
// exactly (16 · 2^-4 = 1). Both mix with topology's GossipMixer (checked against a W built by hand
// below), so this checks the local phase and the order: the two agree bit for bit.
TEST(DecentralizedFL, DFedAvgOneStepIsSynchronousGossip) {
  auto world = Communicator::world();
  gossip_test::Problem p;  // 16 nodes, heterogeneous least squares + l2
  for (const char* graph : {"ring", "grid:4x4", "er:16:0.3"}) {
    for (int Q : {1, 3}) {
      SCOPED_TRACE(std::string(graph) + " Q=" + std::to_string(Q));
      const std::map<std::string, std::string> kv{{"graph", graph},
                                                  {"gossip-steps", std::to_string(Q)},
                                                  {"lr", "0.05"},
                                                  {"local-steps", "1"},
                                                  {"batch-size", "0"}};
      auto sg_kv = kv;
      sg_kv["algorithm"] = "gossip";
      auto s1 = gossip_test::make_setup(world, p, sg_kv);
      SyncGossip sg(*s1->ctx, sync_gossip_options_from(s1->config));
      auto df_kv = kv;
      df_kv["algorithm"] = "dfedavg";
      auto s2 = gossip_test::make_setup(world, p, df_kv);
      auto df = make_algorithm(s2->config, *s2->ctx);
      const Vector x0 = s1->objective->initial_point(1);
      sg.initialize(x0);
      df->initialize(x0);
      for (std::int64_t r = 1; r <= 40; ++r) {
        sg.step(r);
        df->step(r);
      }
      EXPECT_TRUE(as_dfl(*df).local_models() == sg.local_models());
      // x̄ is summed with --reduction allreduce here: equal up to reassociation across ranks.
      EXPECT_LT((df->model() - sg.model()).norm(), 1e-14 * sg.model().norm());
      EXPECT_GT((sg.model() - x0).norm(), 0.1);  // it moved
    }
  }
}

// (b) Pure mixing (no local phase: the gossip step itself) contracts the consensus distance by at
// most λ² per step, λ the second-largest eigenvalue modulus of W; on λ's eigenvector exactly λ².
TEST(DecentralizedFL, GossipContractsAsTheSpectralGapPredicts) {
  auto world = Communicator::world();
  for (const char* spec : {"ring:12", "grid:3x4", "er:12:0.3", "star:12"}) {
    SCOPED_TRACE(spec);
    const Graph g = make_graph(spec, 12, 5);
    const Matrix W = metropolis_by_hand(g);
    Eigen::SelfAdjointEigenSolver<Matrix> eig(W);
    const Vector ev = eig.eigenvalues();  // ascending; ev[n-1] = 1 (the averaging direction)
    const Index n = g.nodes();
    ASSERT_NEAR(ev[n - 1], 1.0, 1e-12);
    const Index k = std::abs(ev[0]) > std::abs(ev[n - 2]) ? 0 : n - 2;
    const double lambda = std::abs(ev[k]);
    ASSERT_LT(lambda, 1.0);

    Placement pl(n, world.size(), world.rank());
    NeighborExchange channel(world);
    GossipMixer mixer(g, pl, channel);
    const Index d = 3;
    RowMatrix X0(n, d);
    RandomStream rng(11, 0, 0, Purpose::kData);
    for (Index i = 0; i < X0.size(); ++i) X0.data()[i] = rng.normal();
    // λ's eigenvector in every column (scaled differently): an exact eigen-direction of X ← W X.
    RowMatrix V(n, d);
    for (Index j = 0; j < d; ++j)
      V.col(j) = (1.0 + static_cast<double>(j)) * eig.eigenvectors().col(k);
    for (const RowMatrix* start : {&X0, &V}) {
      RowMatrix local = start->middleRows(pl.local_first(), pl.local_count());
      const double c0 = consensus_of(*start);
      for (int Q = 1; Q <= 6; ++Q) {
        mixer.mix(local);
        const double cq = consensus_of(gather_rows(world, pl, local));
        const double bound = std::pow(lambda, 2 * Q) * c0;
        if (start == &V) {
          EXPECT_NEAR(cq, bound, 1e-10 * c0) << "Q=" << Q;
        } else {
          EXPECT_LE(cq, bound * (1 + 1e-12)) << "Q=" << Q;
        }
      }
    }
  }
}

// (b) In the full method: after the same rounds, more gossip steps per round leave the clients
// closer together (the consensus metric against Q), and the metric is (1/n) Σ ‖x_i − x̄‖².
TEST(DecentralizedFL, ConsensusShrinksWithGossipSteps) {
  auto world = Communicator::world();
  const fedtest::Problem p{.clients = 12, .dim = 4, .base_rows = 30};
  double previous = 0;
  for (int Q : {1, 2, 4, 8}) {
    const Config cfg = fedtest::make_config(p, {{"algorithm", "dfedsam"},
                                                {"graph", "ring"},
                                                {"gossip-steps", std::to_string(Q)},
                                                {"local-steps", "5"},
                                                {"lr", "0.02"},
                                                {"sam-rho", "0.05"}});
    fedtest::RunSetup s(world, p, cfg);
    auto a = make_algorithm(s.config, s.ctx);
    a->initialize(Vector::Zero(p.dim));
    for (std::int64_t r = 1; r <= 10; ++r) a->step(r);
    MetricRow m;
    a->extra_metrics(m);
    const RowMatrix all = gather_rows(world, s.placement, as_dfl(*a).local_models());
    EXPECT_NEAR(m.get("consensus"), consensus_of(all), 1e-12 * consensus_of(all));
    EXPECT_GT(m.get("consensus"), 0.0);
    if (Q > 1) {
      EXPECT_LT(m.get("consensus"), previous / 1.5) << "Q=" << Q;
    }
    previous = m.get("consensus");
  }
}

// DFedSAM's first round by hand: K = 2 full-batch SAM steps from x0 = 0 on each client's
// least-squares f_i(x) = (1/2n_i)‖X_i x − y_i‖² (gradient A_i x − c_i, A_i = X_iᵀX_i/n_i,
// c_i = X_iᵀy_i/n_i), y ← y − η ∇f_i(y + ρ g/‖g‖) with g = ∇f_i(y); then x_i = Σ_j W_ij y_j with W
// built by hand. Also the gradient count: two per SAM step.
TEST(DecentralizedFL, DFedSamFirstRoundByHand) {
  auto world = Communicator::world();
  const fedtest::Problem p{.clients = 8, .dim = 4, .base_rows = 30};
  const double eta = 0.05, rho = 0.3;
  const Config cfg = fedtest::make_config(p, {{"algorithm", "dfedsam"},
                                              {"graph", "ring"},
                                              {"gossip-steps", "1"},
                                              {"local-steps", "2"},
                                              {"lr", "0.05"},
                                              {"sam-rho", "0.3"}});
  fedtest::RunSetup s(world, p, cfg);
  auto a = make_algorithm(s.config, s.ctx);
  a->initialize(Vector::Zero(p.dim));
  a->step(1);
  const RowMatrix got = gather_rows(world, s.placement, as_dfl(*a).local_models());

  RowMatrix Y(p.clients, p.dim);
  for (Index i = 0; i < p.clients; ++i) {
    RowMatrix X;
    Vector yv;
    p.client_rows(i, X, yv);
    const double n = static_cast<double>(X.rows());
    const Matrix A = X.transpose() * X / n;
    const Vector c = X.transpose() * yv / n;
    Vector y = Vector::Zero(p.dim);
    for (int k = 0; k < 2; ++k) {
      const Vector g = A * y - c;
      const Vector yp = y + rho * g / g.norm();
      y -= eta * (A * yp - c);
    }
    Y.row(i) = y.transpose();
  }
  const RowMatrix want = metropolis_by_hand(make_graph("ring", p.clients, 1)) * Y;
  EXPECT_LT((got - want).norm(), 1e-12 * want.norm());
  std::uint64_t evals = a->local_grad_evals();
  world.allreduce_sum(std::span<std::uint64_t>(&evals, 1));
  EXPECT_EQ(evals, static_cast<std::uint64_t>(2 * 2 * p.clients));
}

// (c) Every gossip step sends each client's d float64 values once along each of its edges:
// agent i's logical peer bytes are R · Q · deg(i) · d · 8 in R · Q · deg(i) messages; the
// metric bytes_per_edge_round is Q · d · 8; MPI carries exactly the directed edges that leave
// this rank.
TEST(DecentralizedFL, BytesPerEdgeExact) {
  const fedtest::Problem p{.clients = 10, .dim = 6, .base_rows = 20};
  for (const char* graph : {"ring", "er:10:0.4", "complete"}) {
    SCOPED_TRACE(graph);
    auto comm = Communicator::world();  // fresh counters
    const int Q = 3;
    const std::int64_t R = 4;
    const Config cfg = fedtest::make_config(p, {{"algorithm", "dfedavg"},
                                                {"graph", graph},
                                                {"gossip-steps", std::to_string(Q)},
                                                {"local-steps", "2"},
                                                {"batch-size", "5"}});
    fedtest::RunSetup s(comm, p, cfg);
    auto a = make_algorithm(s.config, s.ctx);
    a->initialize(Vector::Zero(p.dim));
    const Graph g = make_graph(graph, p.clients, 1);
    const std::uint64_t mpi0 = comm.traffic().mpi_bytes();
    for (std::int64_t r = 1; r <= R; ++r) a->step(r);
    const std::uint64_t mpi = comm.traffic().mpi_bytes() - mpi0;
    const std::uint64_t per_edge = static_cast<std::uint64_t>(Q) * p.dim * sizeof(double);
    std::uint64_t cross = 0;  // directed edges from a local node to a remote one
    for (Index i = s.placement.local_first(); i < s.placement.end(comm.rank()); ++i) {
      const auto t = comm.traffic().agent(i);
      const auto deg = static_cast<std::uint64_t>(g.degree(i));
      EXPECT_EQ(t.bytes_peer, R * deg * per_edge) << "client " << i;
      EXPECT_EQ(t.messages_peer, R * Q * deg) << "client " << i;
      EXPECT_EQ(t.bytes_up + t.bytes_down, 0u);
      for (Index e : g.incident(i)) cross += s.placement.is_local(g.edge(e).other(i)) ? 0 : 1;
    }
    EXPECT_EQ(mpi, R * cross * per_edge);
    std::uint64_t total = comm.traffic().local_total().bytes_peer;
    comm.allreduce_sum(std::span<std::uint64_t>(&total, 1));
    EXPECT_EQ(total, R * 2 * static_cast<std::uint64_t>(g.edge_count()) * per_edge);
    MetricRow m;
    a->extra_metrics(m);
    EXPECT_EQ(m.get("bytes_per_edge_round"), static_cast<double>(per_edge));
    EXPECT_EQ(m.get("comm_events"), static_cast<double>(R * Q * g.edge_count()));
  }
}

namespace {
const fedtest::Problem kStoch{.clients = 10, .dim = 5, .base_rows = 30};

Config stochastic(const std::string& algo, const std::string& graph) {
  return fedtest::make_config(kStoch, {{"algorithm", algo},
                                       {"graph", graph},
                                       {"gossip-steps", "2"},
                                       {"batch-size", "7"},
                                       {"local-steps", "4"},
                                       {"lr", "0.05"},
                                       {"lr-decay", "0.99"},
                                       {"sam-rho", "0.05"},
                                       {"seed", "17"},
                                       {"reduction", "ordered"},
                                       {"rounds", "24"},
                                       {"eval-every", "4"}});
}
}  // namespace

// (d) Minibatches are keyed by (seed, client, round) and the mixing sums in edge order: every
// client's model has the same bits whatever the rank count; with ordered sums so has x̄.
TEST(DecentralizedFL, SameModelsAtAnyRankCount) {
  auto world = Communicator::world();
  auto self = Communicator::self();
  for (const char* algo : {"dfedavg", "dfedsam"}) {
    for (const char* graph : {"ring", "er:10:0.4"}) {
      SCOPED_TRACE(std::string(algo) + " " + graph);
      const Config cfg = stochastic(algo, graph);
      fedtest::RunSetup sw(world, kStoch, cfg), ss(self, kStoch, cfg);
      auto aw = make_algorithm(sw.config, sw.ctx);
      auto as = make_algorithm(ss.config, ss.ctx);
      aw->initialize(Vector::Zero(kStoch.dim));
      as->initialize(Vector::Zero(kStoch.dim));
      for (std::int64_t r = 1; r <= 15; ++r) {
        aw->step(r);
        as->step(r);
      }
      EXPECT_TRUE(gather_rows(world, sw.placement, as_dfl(*aw).local_models()) ==
                  as_dfl(*as).local_models());
      EXPECT_TRUE(aw->model() == as->model());
      EXPECT_GT(aw->model().norm(), 0.1);
    }
  }
}

// (e) A checkpoint holds every client's model and counters: resuming it gives the uninterrupted
// run's model and metrics bit for bit, also with every client on one rank.
TEST(DecentralizedFL, ResumeEqualsUninterruptedRun) {
  auto comm = Communicator::world();
  for (const char* algo : {"dfedavg", "dfedsam"}) {
    SCOPED_TRACE(algo);
    const Config cfg = stochastic(algo, "er:10:0.4");
    std::string ckpt = std::string(DISTOPT_BINARY_DIR) + "/test_dfl_np" +
                       std::to_string(comm.size()) + "_" + algo + ".ckpt.h5";
    comm.broadcast(ckpt);
    auto c1 = Communicator::world(), c2 = Communicator::world(), c3 = Communicator::world();
    auto self = Communicator::self();
    const auto full = fedtest::train(c1, kStoch, cfg, trainer_options_from(cfg));
    auto first = trainer_options_from(cfg);
    first.rounds = 13;
    first.checkpoint_every = 9;
    first.checkpoint_path = ckpt;
    const auto part = fedtest::train(c2, kStoch, cfg, first);
    ASSERT_EQ(part.summary.checkpoint_written, ckpt);
    auto second = trainer_options_from(cfg);
    second.resume_path = ckpt;
    const auto resumed = fedtest::train(c3, kStoch, cfg, second);
    EXPECT_EQ((resumed.x - full.x).norm(), 0.0);
    ASSERT_EQ(resumed.log.rows(), full.log.rows());
    for (const char* col : {"loss", "grad_evals", "bytes_peer", "consensus", "client_drift",
                            "comm_events", "lr_local", "bytes_per_edge_round"}) {
      EXPECT_EQ(resumed.log.column(col), full.log.column(col)) << col;
    }
    const auto alone = fedtest::train(self, kStoch, cfg, second);
    EXPECT_EQ((alone.x - full.x).norm(), 0.0) << "resumed on one rank";
    for (const char* col : {"grad_evals", "bytes_peer", "consensus", "comm_events"}) {
      EXPECT_EQ(alone.log.column(col), full.log.column(col)) << "one rank: " << col;
    }
    comm.barrier();
    if (comm.is_root()) std::filesystem::remove(ckpt);
  }
}

// Bad values name their option before any work.
TEST(DecentralizedFL, OptionsNameTheCulprit) {
  auto world = Communicator::world();
  const fedtest::Problem p{.clients = 6, .dim = 3, .base_rows = 10};
  auto expect_error = [&](std::map<std::string, std::string> kv, const std::string& key) {
    kv.emplace("algorithm", "dfedsam");
    const Config cfg = fedtest::make_config(p, kv);
    fedtest::RunSetup s(world, p, cfg);
    try {
      make_algorithm(s.config, s.ctx);
      ADD_FAILURE() << "no error for " << key;
    } catch (const ConfigError& e) {
      EXPECT_EQ(e.key(), key);
    }
  };
  expect_error({{"sam-rho", "-1"}}, "sam-rho");
  expect_error({{"gossip-steps", "0"}}, "gossip-steps");
  expect_error({{"graph", "ring:7"}}, "graph");
  expect_error({{"lr", "theory"}}, "lr");
}
