#pragma once
// Test problems for the gossip suites: n nodes, each with its own rows (heterogeneous local
// optima), built identically on every rank from a counter-based stream, then cut down to the
// rows of the nodes a given placement puts on this rank. Least squares and l2-regularised
// logistic regression: every node's function is strongly convex.
#include <cstring>
#include <map>
#include <memory>
#include <string>

#include "distopt/comm/communicator.hpp"
#include "distopt/comm/placement.hpp"
#include "distopt/core/random.hpp"
#include "distopt/data/local_data.hpp"
#include "distopt/method/algorithm.hpp"
#include "distopt/model/objective.hpp"
#include "distopt/run/gossip_config.hpp"
#include "distopt/run/method_registry.hpp"
#include "distopt/run/options.hpp"

namespace distopt::gossip_test {

struct Problem {
  Index n = 16, rows = 20, d = 4;
  bool logistic = false;
  double l2 = 0.1;
};

/// Everything a RunContext refers to, owned together.
struct Setup {
  Config config;
  LocalData data;
  std::unique_ptr<Objective> objective;
  std::unique_ptr<RunContext> ctx;
};

/// All rows of all nodes (node after node).
inline Dataset all_rows(const Problem& p) {
  const Index N = p.n * p.rows;
  RowMatrix X(N, p.d);
  Vector y(N);
  RandomStream rng(7, 0, 0, Purpose::kData);
  Vector w(p.d);
  for (Index j = 0; j < p.d; ++j) w[j] = rng.normal();
  for (Index a = 0; a < p.n; ++a) {
    Vector shift(p.d);  // node-specific optimum: heterogeneous data
    for (Index j = 0; j < p.d; ++j) shift[j] = 0.5 * rng.normal();
    for (Index r = 0; r < p.rows; ++r) {
      const Index k = a * p.rows + r;
      for (Index j = 0; j < p.d; ++j) X(k, j) = rng.normal();
      const double z = X.row(k).dot(w + shift) + 0.1 * rng.normal();
      y[k] = p.logistic ? (z > 0 ? 1.0 : -1.0) : z;
    }
  }
  return Dataset(std::move(X), std::move(y), p.logistic ? Task::kBinary : Task::kRegression, p.logistic ? 2 : 1);
}

/// A run context over `comm` with the given options (the placement follows comm's size).
inline std::unique_ptr<Setup> make_setup(Communicator& comm, const Problem& p,
                                         std::map<std::string, std::string> options) {
  auto s = std::make_unique<Setup>();
  options["agents"] = std::to_string(p.n);
  options["problem"] = p.logistic ? "logistic" : "least-squares";
  options["l2"] = std::to_string(p.l2);
  if (!options.count("seed")) options["seed"] = "3";
  s->config = Config::from_map(train_options(), options);
  Placement placement(p.n, comm.size(), comm.rank());
  const Dataset all = all_rows(p);
  std::vector<Index> mine;
  for (Index r = placement.local_first() * p.rows; r < placement.end(comm.rank()) * p.rows; ++r) mine.push_back(r);
  s->data.train = all.select(mine);
  s->data.first_agent = placement.local_first();
  for (Index k = 0; k <= placement.local_count(); ++k) s->data.local_offsets.push_back(k * p.rows);
  s->data.task = all.task();
  s->data.n_features = p.d;
  s->data.n_classes = all.n_classes();
  Regularization reg;
  reg.l2 = p.l2;
  s->objective = make_objective(options["problem"], p.d, all.n_classes(), all.task(), reg);
  std::vector<double> weights(static_cast<std::size_t>(p.n), 1.0 / static_cast<double>(p.n));
  s->ctx = std::make_unique<RunContext>(RunContext{comm, *s->objective, s->data, placement,
                                                   s->config.get_uint("seed"),
                                                   Reduction::kAllreduce, std::move(weights)});
  return s;
}

/// Order-sensitive fingerprint of a matrix: every bit counts.
inline std::uint64_t fingerprint(const RowMatrix& X) {
  std::uint64_t h = 1469598103934665603ull;
  for (Index k = 0; k < X.size(); ++k) {
    std::uint64_t b = 0;
    const double v = X.data()[k];
    std::memcpy(&b, &v, sizeof b);
    h = (h ^ b) * 1099511628211ull;
  }
  return h;
}

}  // namespace distopt::gossip_test
