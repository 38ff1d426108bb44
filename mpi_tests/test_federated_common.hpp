#pragma once
// Shared by the federated suites (test_federated_*.cpp): heterogeneous least-squares clients,
// which are exactly the quadratics of ALGORITHMS.md §1's test hooks,
//   f_i(x) = (1/2n_i) ‖X_i x − y_i‖² = ½ (x − b_i)ᵀ A_i (x − b_i) + const,
//   A_i = X_iᵀX_i / n_i,  b_i = A_i⁻¹ X_iᵀ y_i / n_i,
// a test objective that computes them, hand-built LocalData/RunContext, and run helpers.
#include <Eigen/Dense>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "distopt/comm/communicator.hpp"
#include "distopt/comm/placement.hpp"
#include "distopt/core/random.hpp"
#include "distopt/data/local_data.hpp"
#include "distopt/method/algorithm.hpp"
#include "distopt/method/trainer.hpp"
#include "distopt/model/objective.hpp"
#include "distopt/run/method_registry.hpp"
#include "distopt/run/options.hpp"
#include "distopt/run/trainer_config.hpp"

namespace fedtest {

using namespace distopt;

/// Least squares without regulariser: Σ_r ½ (a_r·x − y_r)², written here so that the expected
/// fixed points below do not depend on the model layer.
class LeastSquaresTestObjective : public Objective {
 public:
  explicit LeastSquaresTestObjective(Index d) { layout_.add("w", d); }
  std::string name() const override { return "test-least-squares"; }
  const ParameterLayout& layout() const override { return layout_; }
  double sum_loss(const Vector& x, const DataBlock& rows, Vector* g) const override {
    const Vector r = rows.dense() * x - rows.labels();
    if (g) g->noalias() += rows.dense().transpose() * r;
    return 0.5 * r.squaredNorm();
  }
  void sum_hvp(const Vector&, const Vector& v, const DataBlock& rows, Vector& out) const override {
    out.noalias() += rows.dense().transpose() * (rows.dense() * v);
  }
  bool has_hvp() const override { return true; }
  double regularizer(const Vector&, Vector*) const override { return 0.0; }
  void regularizer_hvp(const Vector&, const Vector&, Vector&) const override {}
  Index sum_correct(const Vector&, const DataBlock&) const override { return -1; }
  double smoothness(const DataBlock&) const override { return std::numeric_limits<double>::infinity(); }
  double strong_convexity(const DataBlock&) const override { return 0.0; }
  Vector initial_point(std::uint64_t) const override { return Vector::Zero(layout_.size()); }

 private:
  ParameterLayout layout_;
};

/// A federated problem: N clients of dimension d, client i with rows(i) rows.
struct Problem {
  Index clients = 8;
  Index dim = 4;
  Index base_rows = 40;
  Index rows(Index i) const { return base_rows + 10 * (i % 4) + i; }
  Index total_rows() const {
    Index s = 0;
    for (Index i = 0; i < clients; ++i) s += rows(i);
    return s;
  }

  /// Client i's rows, from its own stream (any rank can make any client). Heterogeneous: the
  /// feature scales and the planted model differ per client.
  void client_rows(Index i, RowMatrix& X, Vector& y) const {
    const Index n = rows(i);
    X.resize(n, dim);
    y.resize(n);
    RandomStream s(2024, static_cast<std::uint64_t>(i), 0, Purpose::kData);
    Vector w(dim);
    for (Index j = 0; j < dim; ++j) w[j] = 1.0 + s.normal() + 0.5 * static_cast<double>((i + j) % 3);
    for (Index r = 0; r < n; ++r) {
      for (Index j = 0; j < dim; ++j) X(r, j) = s.normal() * (1.0 + 0.3 * static_cast<double>((i + j) % 3));
      y[r] = X.row(r).dot(w) + 0.5 * s.normal();
    }
  }

  /// The LocalData of a placement (client rows agent by agent).
  LocalData local(const Placement& pl) const {
    LocalData d;
    Index n = 0;
    for (Index a = pl.local_first(); a < pl.end(pl.rank()); ++a) n += rows(a);
    RowMatrix X(n, dim);
    Vector y(n);
    d.local_offsets.push_back(0);
    Index off = 0;
    for (Index a = pl.local_first(); a < pl.end(pl.rank()); ++a) {
      RowMatrix Xa;
      Vector ya;
      client_rows(a, Xa, ya);
      X.middleRows(off, Xa.rows()) = Xa;
      y.segment(off, ya.size()) = ya;
      off += Xa.rows();
      d.local_offsets.push_back(off);
    }
    d.train = Dataset(std::move(X), std::move(y), Task::kRegression, 1);
    d.first_agent = pl.local_first();
    for (Index i = 0; i < clients; ++i) d.agent_rows.push_back(rows(i));
    d.total_train = total_rows();
    d.n_features = dim;
    d.n_classes = 1;
    d.task = Task::kRegression;
    return d;
  }

  /// p_i ∝ n_i (samples) or 1/N (uniform).
  std::vector<double> weights(bool uniform) const {
    std::vector<double> w;
    for (Index i = 0; i < clients; ++i) {
      w.push_back(uniform ? 1.0 / static_cast<double>(clients)
                          : static_cast<double>(rows(i)) / static_cast<double>(total_rows()));
    }
    return w;
  }

  /// A_i and b_i of client i, computed from its rows.
  void quadratic(Index i, Matrix& A, Vector& b) const {
    RowMatrix X;
    Vector y;
    client_rows(i, X, y);
    const double n = static_cast<double>(X.rows());
    A = X.transpose() * X / n;
    b = A.ldlt().solve(Vector(X.transpose() * y / n));
  }
};

/// key=value options on top of the defaults every federated test uses.
inline Config make_config(const Problem& p, std::map<std::string, std::string> kv) {
  kv.emplace("agents", std::to_string(p.clients));
  kv.emplace("lr", "0.1");
  if (!kv.count("local-epochs")) kv.emplace("local-steps", "5");
  kv.emplace("batch-size", "0");
  return Config::from_map(train_options(), kv);
}

/// Owns everything a RunContext refers to, for one communicator.
struct RunSetup {
  RunSetup(Communicator& comm, const Problem& p, const Config& cfg)
      : config(cfg),
        placement(p.clients, comm.size(), comm.rank()),
        data(p.local(placement)),
        objective(p.dim),
        ctx{comm,
            objective,
            data,
            placement,
            config.get_uint("seed"),
            reduction_from_string(config.get("reduction")),
            p.weights(config.get("weighting") == "uniform")} {}
  Config config;
  Placement placement;
  LocalData data;
  LeastSquaresTestObjective objective;
  RunContext ctx;
};

/// Runs `rounds` rounds of the configured method directly (no Trainer) and returns the model.
inline Vector run_rounds(Communicator& comm, const Problem& p, const Config& cfg, std::int64_t rounds) {
  RunSetup s(comm, p, cfg);
  auto algo = make_algorithm(s.config, s.ctx);
  algo->initialize(Vector::Zero(p.dim));
  for (std::int64_t t = 1; t <= rounds; ++t) algo->step(t);
  return algo->model();
}

struct TrainRun {
  Vector x;
  MetricLog log;
  Summary summary;
};

/// Runs the configured method through the Trainer (initial model 0). `comm` should be a fresh
/// wrapper (Communicator::world()): its traffic counters are part of the run's metrics.
inline TrainRun train(Communicator& comm, const Problem& p, const Config& cfg, TrainerOptions topt,
                      TrainerCallback* callback = nullptr) {
  RunSetup s(comm, p, cfg);
  auto algo = make_algorithm(s.config, s.ctx);
  topt.initial_model = Vector::Zero(p.dim);
  Trainer t(s.ctx, *algo, std::move(topt));
  if (callback) t.add_callback(callback);
  TrainRun r;
  r.summary = t.run();
  r.x = algo->model();
  r.log = t.log();
  return r;
}

inline double rel_diff(const Vector& a, const Vector& b) {
  return (a - b).norm() / std::max(b.norm(), 1e-300);
}

}  // namespace fedtest
