// The stochastic multi-block bilevel methods (bsvrb1, bsvrb2, f2sa, stocbio) on a small multitask
// problem: they reach the optimum value of F found by exact-hypergrad (in the deterministic limit I
// = m, B = every row, and in a stochastic setting I < m, B < rows), their hypergradient estimate at
// a frozen x converges to the exact hypergradient, the model is bitwise the same at any rank count
// with Reduction::kOrdered (1e-12 with allreduce), save + load + continue equals the uninterrupted
// run (also at another rank count), the metrics and counts, and the keys validation names.
//
// The convergence tests (optimum, stochastic setting, frozen x, reference start) run every block
// on each rank's own self communicator: what they check does not depend on the rank count (the
// rank-count tests below check that the trajectory is the same bits anyway), and thousands of
// iterations of collectives among oversubscribed ranks on a loaded machine cost a scheduler time
// slice each.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "distopt/bilevel/bsvrb.hpp"
#include "distopt/bilevel/exact_hypergradient_descent.hpp"
#include "distopt/bilevel/f2sa.hpp"
#include "distopt/bilevel/stocbio.hpp"
#include "distopt/comm/communicator.hpp"
#include "distopt/io/metrics.hpp"
#include "distopt/method/state_archive.hpp"
#include "test_bilevel_common.hpp"

using namespace distopt;

namespace {

// m = 8 tasks, p = 6 features, k = 2 (x of dimension 12), 40 training and 40 validation rows per
// task, λ = 0.5 (μ_i = 0.5), ρ = 0.05, σ = 0.1: the problem of test_bilevel_exact.cpp.
constexpr Index kBlocks = 8;
constexpr std::uint64_t kSeed = 17;
constexpr std::uint64_t kInitSeed = 3;

MultitaskOptions problem_options() { return test::method_test_multitask(); }

// The methods under test, built from one description.
enum class Kind { kBsvrb1, kBsvrb2, kF2sa, kStocbio };

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::kBsvrb1:
      return "bsvrb1";
    case Kind::kBsvrb2:
      return "bsvrb2";
    case Kind::kF2sa:
      return "f2sa";
    case Kind::kStocbio:
      return "stocbio";
  }
  return "?";
}

struct Setting {
  Index blocks_per_iter = kBlocks;  // I
  Index block_batch = 0;            // B (0: every row)
  double lr = 0.5;                  // BSVRB's η / F2SA's α
  bool freeze_x = false;            // η = 0 / ξ = 0
};

// Tuned on this problem (documented in the tests that use them):
//  * BSVRB: α = 0.9, β = 0.9, γ = 1 (the defaults), τ = 0.2 for both versions: with the γ = 1
//    correction the lower iteration y ← y − τ s is stable only for τ L_g below about 0.76 (on a
//    quadratic its characteristic roots solve r² − (1.1 − 1.9c) r − (c − 0.1) = 0, c = τ h), and
//    L_g ≈ 2.5 here (so the default 0.5 diverges); H_bound = 0.1 (below μ √k ≈ 0.71: the floor
//    never binds at a true Hessian), v_bound = 10 (inactive), init "zero" (the default);
//  * F2SA: γ = 0.2, T = 10 (the default), λ0 = 1, δ = 0.5, λ capped at 100 (the bias of the
//    penalty is O(1/λ)), α = 4e-3 (2e-3 with B = 10 rows, whose batch Hessians are larger), so
//    that the y step α λ L_g stays below 2, and ξ = 0.2/α (an x step of 0.2).
BsvrbOptions bsvrb_options(Kind k, const Setting& s) {
  BsvrbOptions o;
  o.version = k == Kind::kBsvrb1 ? BsvrbVersion::kV1 : BsvrbVersion::kV2;
  o.lr = s.freeze_x ? 0.0 : s.lr;
  o.tau = 0.2;
  o.hessian_bound = 0.1;
  o.sampler.blocks_per_iter = s.blocks_per_iter;
  o.sampler.block_batch = s.block_batch;
  return o;
}

F2saOptions f2sa_options(const Setting& s) {
  F2saOptions o;
  o.alpha = s.lr;
  o.gamma = 0.2;
  o.xi = s.freeze_x ? 0.0 : 0.2 / s.lr;  // x step ξ α = 0.2
  o.lambda_step = 0.5;
  o.lambda_max = 100;
  o.sampler.blocks_per_iter = s.blocks_per_iter;
  o.sampler.block_batch = s.block_batch;
  return o;
}

//  * stocBiO: α = η = 0.3 (η L_g ≈ 0.75: the Neumann factor I − η H contracts by 1 − η μ = 0.85),
//    D = 10 inner steps and Q = 100 Neumann terms, whose truncation bias is at most
//    0.85^101 ≈ 7e-8 relative (measured 3e-14: the data term lifts the smallest eigenvalue of H
//    above λ).
StocbioOptions stocbio_options(const Setting& s) {
  StocbioOptions o;
  o.lr = s.freeze_x ? 0.0 : s.lr;
  o.inner_lr = 0.3;
  o.inner_steps = 10;
  o.neumann_lr = 0.3;
  o.neumann_steps = 100;
  o.sampler.blocks_per_iter = s.blocks_per_iter;
  o.sampler.block_batch = s.block_batch;
  return o;
}

std::unique_ptr<Algorithm> make(Kind k, Communicator& comm, BilevelProblem& p, const Setting& s,
                                Reduction red = Reduction::kOrdered) {
  BilevelContext ctx{comm, p, kSeed, red};
  if (k == Kind::kF2sa) return std::make_unique<F2sa>(ctx, f2sa_options(s));
  if (k == Kind::kStocbio) return std::make_unique<Stocbio>(ctx, stocbio_options(s));
  return std::make_unique<Bsvrb>(ctx, bsvrb_options(k, s));
}

// The method's current hypergradient estimate (z for BSVRB, the last direction for F2SA).
Vector estimate_of(const Algorithm& a) {
  if (const auto* b = dynamic_cast<const Bsvrb*>(&a)) return b->estimate();
  if (const auto* b = dynamic_cast<const Stocbio*>(&a)) return b->direction();
  return dynamic_cast<const F2sa&>(a).direction();
}

// F(x) and ∇F(x) exactly, over `comm`.
double exact_at(Communicator& comm, BilevelProblem& p, const Vector& x, Vector* grad) {
  std::vector<Vector> y;
  return exact_hypergradient(comm, Reduction::kOrdered, p, x, y, grad, HypergradientSolveOptions{});
}

// F* of the problem: exact-hypergrad (η = 1) from the common initial point until ‖∇F‖² < 1e-10.
double optimum(Communicator& comm) {
  auto p = test::multitask_on(comm, problem_options(), kBlocks, kSeed);
  ExactHypergradOptions o;
  o.lr = 1.0;
  ExactHypergradientDescent m({comm, *p, 1, Reduction::kOrdered}, o);
  m.initialize(p->initial_upper(kInitSeed));
  std::int64_t t = 0;
  while (t < 1000 && !(m.last_grad_norm_sq() < 1e-10)) m.step(++t);
  EXPECT_LT(m.last_grad_norm_sq(), 1e-10);
  return m.evaluate(nullptr);
}

struct Outcome {
  Vector x;
  double F = 0, grad_norm_sq = 0;
};

Outcome run(Kind k, Communicator& comm, const Setting& s, std::int64_t steps,
            Reduction red = Reduction::kOrdered) {
  auto p = test::multitask_on(comm, problem_options(), kBlocks, kSeed);
  auto m = make(k, comm, *p, s, red);
  m->initialize(p->initial_upper(kInitSeed));
  for (std::int64_t t = 1; t <= steps; ++t) m->step(t);
  Outcome r;
  r.x = m->model();
  Vector g;
  r.F = exact_at(comm, *p, r.x, &g);
  r.grad_norm_sq = g.squaredNorm();
  return r;
}

std::string sci(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3e", v);
  return buf;
}

void report(Communicator& comm, const std::string& what) {
  if (comm.is_root()) std::printf("[ measured ] %s\n", what.c_str());
}

constexpr Kind kAll[] = {Kind::kBsvrb1, Kind::kBsvrb2, Kind::kF2sa, Kind::kStocbio};

}  // namespace

TEST(BilevelMethods, DeterministicLimitReachesTheOptimum) {
  // I = m, B = every row: the estimators see exact quantities. BSVRB's fixed point is a
  // stationary point of F (tolerance 1e-9 on F − F*, F* itself being within about 1e-10 of the
  // minimum); F2SA's is that of the penalty with λ_max = 100, whose hypergradient bias is O(1/λ)
  // (tolerance 1e-4 relative). Measured: bsvrb1/bsvrb2 −1.9e-10, f2sa 3.9e-7.
  auto comm = Communicator::self();
  const double fstar = optimum(comm);
  Setting s;
  struct Case {
    Kind k;
    double lr;
    std::int64_t steps;
    double tol;
  };
  for (const Case c : {Case{Kind::kBsvrb1, 0.5, 600, 1e-9}, Case{Kind::kBsvrb2, 0.5, 600, 1e-9},
                       Case{Kind::kF2sa, 4e-3, 3000, 1e-4 * std::abs(fstar)},
                       Case{Kind::kStocbio, 0.5, 600, 1e-9}}) {
    s.lr = c.lr;
    const Outcome r = run(c.k, comm, s, c.steps);
    report(comm, std::string(kind_name(c.k)) + " deterministic: F - F* = " + sci(r.F - fstar) +
                     ", |grad F|^2 = " + sci(r.grad_norm_sq) + " (F* = " + std::to_string(fstar) +
                     ")");
    EXPECT_NEAR(r.F, fstar, c.tol) << kind_name(c.k);
  }
}

TEST(BilevelMethods, StochasticSettingApproachesTheOptimum) {
  // I = 4 of 8 blocks, B = 10 of 40 rows per level; η = 0.05 for BSVRB; 3000 iterations;
  // tolerance 1e-2 relative on F − F* (measured: bsvrb1 2.3e-5, bsvrb2 3.3e-5, f2sa 1.6e-4).
  auto comm = Communicator::self();
  const double fstar = optimum(comm);
  Setting s;
  s.blocks_per_iter = 4;
  s.block_batch = 10;
  struct Case {
    Kind k;
    double lr;
    std::int64_t steps;
  };
  for (const Case c : {Case{Kind::kBsvrb1, 0.05, 3000}, Case{Kind::kBsvrb2, 0.05, 3000},
                       Case{Kind::kF2sa, 2e-3, 3000}, Case{Kind::kStocbio, 0.05, 3000}}) {
    s.lr = c.lr;
    const Outcome r = run(c.k, comm, s, c.steps);
    report(comm, std::string(kind_name(c.k)) + " stochastic: F - F* = " + sci(r.F - fstar) +
                     ", |grad F|^2 = " + sci(r.grad_norm_sq));
    EXPECT_NEAR(r.F, fstar, 1e-2 * std::abs(fstar)) << kind_name(c.k);
  }
}

TEST(BilevelMethods, EstimateAtAFrozenXConvergesToTheExactHypergradient) {
  // η = 0 (ξ = 0): x stays at the initial point, where ∇F ≠ 0; I = m, B = every row. BSVRB's z
  // tends to ∇F(x) itself (tolerance 1e-10 relative; measured 3e-16 after 800 iterations); F2SA's
  // direction to ∇F(x) + O(1/λ), λ = 100 from iteration 199 (tolerance 1e-2; measured 3.3e-3).
  auto comm = Communicator::self();
  for (Kind k : kAll) {
    auto p = test::multitask_on(comm, problem_options(), kBlocks, kSeed);
    Setting s;
    s.freeze_x = true;
    s.lr = k == Kind::kF2sa ? 4e-3 : 0.5;
    auto m = make(k, comm, *p, s);
    const Vector x0 = p->initial_upper(kInitSeed);
    m->initialize(x0);
    Vector g;
    exact_at(comm, *p, x0, &g);
    std::vector<double> errs;
    for (std::int64_t t = 1; t <= 800; ++t) {
      m->step(t);
      if (t == 1 || t == 800) errs.push_back(test::rel_err(estimate_of(*m), g));
    }
    EXPECT_EQ(m->model(), x0) << "x is frozen";
    report(comm, std::string(kind_name(k)) + " frozen x: relative error " + sci(errs[0]) +
                     " after 1, " + sci(errs[1]) + " after 800 iterations");
    // stocBiO's direction keeps the Neumann truncation bias (at most 7e-8 relative, see
    // stocbio_options): tolerance 1e-6.
    EXPECT_LT(errs[1], k == Kind::kF2sa ? 1e-2 : (k == Kind::kStocbio ? 1e-6 : 1e-10))
        << kind_name(k);
    EXPECT_LT(errs[1], errs[0]) << kind_name(k);
  }
}

namespace {

// The stochastic setting of the rank-count and checkpoint tests: I = 3 of 8 (I does not divide m:
// the sampler's fill-up path), B = 7 rows, BSVRB v2's catch-up factors > 1.
Setting stochastic_setting(Kind k) {
  Setting s;
  s.blocks_per_iter = 3;
  s.block_batch = 7;
  s.lr = k == Kind::kF2sa ? 2e-3 : 0.05;
  return s;
}

}  // namespace

TEST(BilevelMethods, SameModelAtAnyRankCount) {
  auto world = Communicator::world();
  auto self = Communicator::self();
  for (Kind k : kAll) {
    const Setting s = stochastic_setting(k);
    auto pw = test::multitask_on(world, problem_options(), kBlocks, kSeed);
    auto ps = test::multitask_on(self, problem_options(), kBlocks, kSeed);
    auto mw = make(k, world, *pw, s);
    auto ms = make(k, self, *ps, s);
    const Vector x0 = pw->initial_upper(kInitSeed);
    mw->initialize(x0);
    ms->initialize(x0);
    for (std::int64_t t = 1; t <= 30; ++t) {
      mw->step(t);
      ms->step(t);
    }
    EXPECT_EQ((mw->model() - ms->model()).norm(), 0.0)
        << kind_name(k) << ": ordered reduction, bitwise at any rank count";
    EXPECT_EQ(estimate_of(*mw), estimate_of(*ms)) << kind_name(k);
    EXPECT_EQ(world.allreduce_sum(mw->local_grad_evals()), ms->local_grad_evals());
    const Outcome a = run(k, world, s, 30, Reduction::kAllreduce);
    EXPECT_LT(test::rel_err(a.x, ms->model()), 1e-12) << kind_name(k) << ": allreduce";
  }
}

TEST(BilevelMethods, CheckpointAndContinueEqualsUninterrupted) {
  auto world = Communicator::world();
  auto self = Communicator::self();
  std::string path = "test_bilevel_methods.ckpt.h5";
  world.broadcast(path);
  for (Kind k : kAll) {
    const Setting s = stochastic_setting(k);
    auto p = test::multitask_on(world, problem_options(), kBlocks, kSeed);
    const Vector x0 = p->initial_upper(kInitSeed);
    auto first = make(k, world, *p, s);
    first->initialize(x0);
    for (std::int64_t t = 1; t <= 10; ++t) first->step(t);
    StateArchive mine;
    first->save(mine);
    mine.save(world, path);
    for (std::int64_t t = 11; t <= 20; ++t) first->step(t);
    const Vector full = first->model();
    const std::uint64_t evals = world.allreduce_sum(first->local_grad_evals());
    EXPECT_EQ(full, run(k, world, s, 20).x) << kind_name(k) << ": saving changes nothing";
    {  // in memory, on the same ranks
      auto q = test::multitask_on(world, problem_options(), kBlocks, kSeed);
      auto again = make(k, world, *q, s);
      again->initialize(x0);
      again->load(mine);
      for (std::int64_t t = 11; t <= 20; ++t) again->step(t);
      EXPECT_EQ(again->model(), full) << kind_name(k);
      EXPECT_EQ(estimate_of(*again), estimate_of(*first)) << kind_name(k);
      EXPECT_EQ(world.allreduce_sum(again->local_grad_evals()), evals) << kind_name(k);
    }
    {  // from the file, every block on this rank (another rank count)
      const StateArchive file = StateArchive::load(path);
      auto q = test::multitask_on(self, problem_options(), kBlocks, kSeed);
      auto again = make(k, self, *q, s);
      again->initialize(x0);
      again->load(file);
      for (std::int64_t t = 11; t <= 20; ++t) again->step(t);
      EXPECT_EQ(again->model(), full) << kind_name(k) << ": resumed at another rank count";
      EXPECT_EQ(again->local_grad_evals(), evals) << kind_name(k);
    }
    world.barrier();
  }
  // A v1 checkpoint is not a v2 one.
  {
    auto p = test::multitask_on(world, problem_options(), kBlocks, kSeed);
    auto v1 = make(Kind::kBsvrb1, world, *p, stochastic_setting(Kind::kBsvrb1));
    v1->initialize(p->initial_upper(kInitSeed));
    StateArchive a;
    v1->save(a);
    auto v2 = make(Kind::kBsvrb2, world, *p, stochastic_setting(Kind::kBsvrb2));
    v2->initialize(p->initial_upper(kInitSeed));
    EXPECT_THROW(v2->load(a), InputError);
  }
  world.barrier();
  if (world.is_root()) std::filesystem::remove(path);
}

TEST(BilevelMethods, MetricsCountsAndTraffic) {
  auto comm = Communicator::world();
  for (Kind k : kAll) {
    const Setting s = stochastic_setting(k);
    auto p = test::multitask_on(comm, problem_options(), kBlocks, kSeed);
    auto m = make(k, comm, *p, s);
    EXPECT_EQ(m->name(), kind_name(k));
    const Vector x0 = p->initial_upper(kInitSeed);
    m->initialize(x0);
    const std::uint64_t up0 = comm.traffic().local_total().bytes_up;
    const std::uint64_t down0 = comm.traffic().local_total().bytes_down;
    MetricRow row;
    constexpr std::int64_t kSteps = 12;
    for (std::int64_t t = 1; t <= kSteps; ++t) {
      m->step(t);
      if (t % 4 == 0) m->extra_metrics(row);  // must not change the trajectory
    }
    // Logical traffic: dim(x) doubles up per sampled block and iteration; down, x_t and x_{t−1}
    // for BSVRB (both points are evaluated), x_t for F2SA and stocBiO.
    const double visits = static_cast<double>(kSteps * s.blocks_per_iter);
    const std::uint64_t up = comm.allreduce_sum(comm.traffic().local_total().bytes_up - up0);
    EXPECT_EQ(up, static_cast<std::uint64_t>(visits) * 12 * sizeof(double)) << kind_name(k);
    const std::uint64_t down = comm.allreduce_sum(comm.traffic().local_total().bytes_down - down0);
    const bool one_point = k == Kind::kF2sa || k == Kind::kStocbio;
    EXPECT_EQ(down, static_cast<std::uint64_t>(visits) * (one_point ? 1 : 2) * 12 * sizeof(double))
        << kind_name(k);
    EXPECT_EQ(m->model(), run(k, comm, s, kSteps).x) << kind_name(k);
    Vector g;
    const double F = exact_at(comm, *p, m->model(), &g);
    EXPECT_NEAR(row.get("upper_value"), F, 1e-12 * F) << kind_name(k);
    EXPECT_EQ(row.get("loss"), row.get("upper_value"));
    EXPECT_NEAR(row.get("hypergrad_norm_sq"), g.squaredNorm(), 1e-10 * g.squaredNorm());
    EXPECT_EQ(row.get("grad_norm_sq"), row.get("hypergrad_norm_sq"));
    EXPECT_GE(row.get("lower_residual"), 0.0);
    EXPECT_TRUE(row.has("estimate_error_sq"));
    // Oracle calls: per sampled block and iteration, BSVRB makes 4 gradient calls (∇_y g and
    // ∇f at the current and previous point), 2 mixed products and 2 Hessians (v1) or 2 HVPs (v2);
    // F2SA 3 T + 3 gradient calls and nothing else.
    const double grads = static_cast<double>(comm.allreduce_sum(m->local_grad_evals()));
    if (k == Kind::kF2sa) {
      EXPECT_EQ(grads, visits * (3 * 10 + 3));
      EXPECT_EQ(row.get("hvp_evals") + row.get("jvp_evals") + row.get("hessian_evals"), 0.0);
      EXPECT_EQ(row.get("f2sa_lambda"), 1.0 + 0.5 * (kSteps - 1));
    } else if (k == Kind::kStocbio) {
      // D inner gradients + 1 upper gradient, Q HVPs and one mixed product per visit.
      EXPECT_EQ(grads, visits * (10 + 1));
      EXPECT_EQ(row.get("hvp_evals"), visits * 100);
      EXPECT_EQ(row.get("jvp_evals"), visits);
      EXPECT_EQ(row.get("hessian_evals"), 0.0);
    } else {
      EXPECT_EQ(grads, 4 * visits);
      EXPECT_EQ(row.get("jvp_evals"), 2 * visits);
      EXPECT_EQ(row.get("hessian_evals"), k == Kind::kBsvrb1 ? 2 * visits : 0.0);
      EXPECT_EQ(row.get("hvp_evals"), k == Kind::kBsvrb2 ? 2 * visits : 0.0);
    }
  }
}

TEST(BilevelMethods, ValidationNamesTheKeys) {
  auto comm = Communicator::world();
  auto p = test::multitask_on(comm, problem_options(), kBlocks, kSeed);
  auto bsvrb = [&](const std::function<void(BsvrbOptions&)>& edit) {
    return [&p, &comm, edit] {
      BsvrbOptions o;
      o.sampler.block_batch = 8;
      o.sampler.blocks_per_iter = 4;
      edit(o);
      Bsvrb m({comm, *p, 1, Reduction::kOrdered}, o);
    };
  };
  auto f2sa = [&](const std::function<void(F2saOptions&)>& edit) {
    return [&p, &comm, edit] {
      F2saOptions o;
      o.sampler.block_batch = 8;
      o.sampler.blocks_per_iter = 4;
      edit(o);
      F2sa m({comm, *p, 1, Reduction::kOrdered}, o);
    };
  };
  EXPECT_NO_THROW(bsvrb([](BsvrbOptions&) {})());
  EXPECT_NO_THROW(f2sa([](F2saOptions&) {})());
  test::expect_config_error(bsvrb([](BsvrbOptions& o) { o.lr = -1; }), "lr");
  test::expect_config_error(bsvrb([](BsvrbOptions& o) { o.alpha = 0; }), "bsvrb-alpha");
  test::expect_config_error(bsvrb([](BsvrbOptions& o) { o.alpha = 1.5; }), "bsvrb-alpha");
  test::expect_config_error(bsvrb([](BsvrbOptions& o) { o.gamma = -1; }), "bsvrb-gamma");
  test::expect_config_error(bsvrb([](BsvrbOptions& o) { o.beta = 0; }), "bsvrb-beta");
  test::expect_config_error(bsvrb([](BsvrbOptions& o) { o.tau = -0.1; }), "bsvrb-tau");
  test::expect_config_error(bsvrb([](BsvrbOptions& o) { o.tau_v = NAN; }), "bsvrb-tau-v");
  test::expect_config_error(bsvrb([](BsvrbOptions& o) { o.hessian_bound = 0; }),
                            "bsvrb-hessian-bound");
  test::expect_config_error(bsvrb([](BsvrbOptions& o) { o.v_bound = -1; }), "bsvrb-v-bound");
  test::expect_config_error(bsvrb([](BsvrbOptions& o) { o.sampler.blocks_per_iter = 9; }),
                            "blocks-per-iter");
  test::expect_config_error(bsvrb([](BsvrbOptions& o) { o.sampler.blocks_per_iter = 0; }),
                            "blocks-per-iter");
  test::expect_config_error(bsvrb([](BsvrbOptions& o) { o.sampler.block_batch = 41; }),
                            "block-batch");
  test::expect_config_error(bsvrb([](BsvrbOptions& o) { o.solve.cg_tol = 2; }), "bilevel-cg-tol");
  test::expect_config_error([] { bsvrb_init_from_string("random"); }, "bsvrb-init");
  EXPECT_EQ(bsvrb_init_from_string(to_string(BsvrbInit::kZero)), BsvrbInit::kZero);
  test::expect_config_error(f2sa([](F2saOptions& o) { o.alpha = 0; }), "f2sa-alpha");
  test::expect_config_error(f2sa([](F2saOptions& o) { o.gamma = -1; }), "f2sa-gamma");
  test::expect_config_error(f2sa([](F2saOptions& o) { o.xi = -1; }), "f2sa-xi");
  test::expect_config_error(f2sa([](F2saOptions& o) { o.lambda0 = 0; }), "f2sa-lambda0");
  test::expect_config_error(f2sa([](F2saOptions& o) { o.lambda_step = -1; }), "f2sa-lambda-step");
  test::expect_config_error(f2sa([](F2saOptions& o) { o.lambda_max = 0.5; }), "f2sa-lambda-max");
  test::expect_config_error(f2sa([](F2saOptions& o) { o.inner_steps = 0; }), "f2sa-inner-steps");
  test::expect_config_error(f2sa([](F2saOptions& o) { o.step_decay = -1; }), "f2sa-step-decay");
  test::expect_config_error(f2sa([](F2saOptions& o) { o.sampler.blocks_per_iter = 9; }),
                            "blocks-per-iter");
  test::expect_config_error(f2sa([](F2saOptions& o) { o.sampler.block_batch = 41; }),
                            "block-batch");
  auto stocbio = [&](const std::function<void(StocbioOptions&)>& edit) {
    return [&p, &comm, edit] {
      StocbioOptions o;
      o.sampler.block_batch = 8;
      o.sampler.blocks_per_iter = 4;
      edit(o);
      Stocbio m({comm, *p, 1, Reduction::kOrdered}, o);
    };
  };
  EXPECT_NO_THROW(stocbio([](StocbioOptions&) {})());
  test::expect_config_error(stocbio([](StocbioOptions& o) { o.lr = -1; }), "lr");
  test::expect_config_error(stocbio([](StocbioOptions& o) { o.inner_lr = 0; }), "stocbio-inner-lr");
  test::expect_config_error(stocbio([](StocbioOptions& o) { o.inner_steps = -1; }),
                            "stocbio-inner-steps");
  test::expect_config_error(stocbio([](StocbioOptions& o) { o.neumann_lr = NAN; }),
                            "stocbio-neumann-lr");
  test::expect_config_error(stocbio([](StocbioOptions& o) { o.neumann_steps = -2; }),
                            "stocbio-neumann-steps");
  test::expect_config_error(stocbio([](StocbioOptions& o) { o.sampler.block_batch = 41; }),
                            "block-batch");
  // bsvrb1 inverts the tracked Hessians: a problem without lower_hessian() is rejected.
  test::HvpOnlyMultitask hvp(problem_options(), kBlocks, kSeed, p->placement());
  BsvrbOptions o;
  o.sampler.block_batch = 8;
  o.sampler.blocks_per_iter = 4;
  test::expect_config_error([&] { Bsvrb m({comm, hvp, 1, Reduction::kOrdered}, o); }, "algorithm");
  o.version = BsvrbVersion::kV2;
  EXPECT_NO_THROW(Bsvrb({comm, hvp, 1, Reduction::kOrdered}, o));
  // The version defaults of τ.
  EXPECT_EQ(BsvrbOptions{}.effective_tau(), 0.5);
  EXPECT_EQ(o.effective_tau(), 1.0);
  EXPECT_EQ(o.effective_tau_v(), 1.0);
}

TEST(BilevelMethods, ReferenceStartAlsoReachesTheOptimum) {
  // The reference code's random start (BsvrbInit::kReference), deterministic limit, both
  // versions: F − F* within 1e-9 like the default start. (In the stochastic setting I = 3, B = 7
  // this start makes bsvrb1 diverge: the random previous point gives an indefinite, nearly
  // singular tracked Hessian; that is why it is not the default.)
  auto comm = Communicator::self();
  const double fstar = optimum(comm);
  for (Kind k : {Kind::kBsvrb1, Kind::kBsvrb2}) {
    auto p = test::multitask_on(comm, problem_options(), kBlocks, kSeed);
    BsvrbOptions o = bsvrb_options(k, Setting{});
    o.init = BsvrbInit::kReference;
    Bsvrb m({comm, *p, kSeed, Reduction::kOrdered}, o);
    m.initialize(p->initial_upper(kInitSeed));
    for (std::int64_t t = 1; t <= 600; ++t) m.step(t);
    const double F = exact_at(comm, *p, m.model(), nullptr);
    report(comm, std::string(kind_name(k)) + " reference start: F - F* = " + sci(F - fstar));
    EXPECT_NEAR(F, fstar, 1e-9) << kind_name(k);
  }
}
