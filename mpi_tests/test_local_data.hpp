#pragma once
// Test helpers: LocalData built from a row generator (agent a owns global rows a*R .. a*R+R-1, and
// each rank generates only its agents' rows, so any rank count sees the same data), and the
// heterogeneous logistic rows of the EF21-style tests.
#include <cmath>
#include <memory>
#include <utility>

#include "distopt/comm/communicator.hpp"
#include "distopt/comm/placement.hpp"
#include "distopt/core/random.hpp"
#include "distopt/data/local_data.hpp"
#include "distopt/method/algorithm.hpp"
#include "distopt/model/objective.hpp"
#include "distopt/run/method_registry.hpp"

namespace distopt::test {

/// make_row(global_row, double* features, double& label).
template <class RowFn>
LocalData local_data_from_rows(const Placement& pl, Index rows_per_agent, Index dim, Task task,
                               Index classes, RowFn&& make_row) {
  LocalData d;
  const Index n = pl.local_count() * rows_per_agent;
  RowMatrix X(n, dim);
  Vector y(n);
  for (Index i = 0; i < n; ++i)
    make_row(pl.local_first() * rows_per_agent + i, X.row(i).data(), y[i]);
  d.train = Dataset(std::move(X), std::move(y), task, classes);
  d.first_agent = pl.local_first();
  for (Index i = 0; i <= pl.local_count(); ++i) d.local_offsets.push_back(i * rows_per_agent);
  d.agent_rows.assign(static_cast<std::size_t>(pl.agents()), rows_per_agent);
  d.total_train = pl.agents() * rows_per_agent;
  d.n_features = dim;
  d.n_classes = classes;
  d.task = task;
  return d;
}

/// Row r of a binary problem whose workers (contiguous chunks of `rows_per_worker` rows) have
/// feature scales 0.5..2 (so their L_i differ, as in the EF21 experiments), labels from a planted
/// model with noise (not separable, so a stationary point exists).
inline void heterogeneous_logistic_row(Index r, Index rows_per_worker, Index dim, double* a,
                                       double& y) {
  RandomStream s(2021, static_cast<std::uint64_t>(r), 0, Purpose::kData);
  RandomStream ws(2021, 1u << 30, 0, Purpose::kData);
  const double scale = 0.5 + 0.25 * static_cast<double>((r / rows_per_worker) % 7);
  double z = 0;
  for (Index j = 0; j < dim; ++j) {
    a[j] = scale * s.normal();
    z += a[j] * ws.normal() * 0.5;
  }
  y = s.uniform() < 1.0 / (1.0 + std::exp(-z)) ? 1.0 : -1.0;
}

/// Everything a run of a binary logistic problem needs, kept alive together: placement, this
/// rank's data, the objective (--l2 and --nonconvex-reg from the config) and the RunContext with
/// uniform agent weights.
struct LogisticRunSetup {
  LogisticRunSetup(Communicator& comm, const Config& cfg, Index agents, Index dim,
                   LocalData (*make_local)(const Placement&))
      : config(cfg), pl(agents, comm.size(), comm.rank()), data(make_local(pl)) {
    Regularization reg;
    reg.l2 = cfg.get_double("l2");
    reg.nonconvex = cfg.get_double("nonconvex-reg");
    obj = make_objective("logistic", dim, 2, Task::kBinary, reg);
    ctx = std::make_unique<RunContext>(RunContext{
        comm, *obj, data, pl, cfg.get_uint("seed"), reduction_from_string(cfg.get("reduction")),
        std::vector<double>(static_cast<std::size_t>(agents), 1.0 / static_cast<double>(agents))});
  }
  Config config;
  Placement pl;
  LocalData data;
  std::unique_ptr<Objective> obj;
  std::unique_ptr<RunContext> ctx;
};

}  // namespace distopt::test
