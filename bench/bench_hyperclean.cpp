// Data hyper-cleaning on Fashion-MNIST (docs/results-bilevel.md): what the weights learned by a
// bilevel run are worth. The problem is built from the run's own config file, exactly as
// `distopt train --config FILE` builds it, so features, corruption and blocks are the run's.
//
//   bench_hyperclean evaluate CONFIG RESULT.h5 [pooled]
//     The exact lower solutions y_i*(x) (every block, Newton-CG to --bilevel-lower-tol) and their
//     test accuracy (mean over the blocks) at three weight vectors: every weight 1 (σ = 1 − 1e-9:
//     the blocks trained on their noisy labels directly), the run's final x (/model/x of RESULT),
//     and the ideal weights (1 − 1e-9 on the rows whose label is intact, 1e-9 on the others: each
//     block trained on its clean rows only). One CSV line each. With `pooled`, the same problem
//     with ONE block holding every training row (--agents 1): one model trained on all rows with
//     those weights (the "cleaned model" retrained on the learned weights).
//   bench_hyperclean baselines CONFIG
//     (one rank) Single softmax-regression models with the run's features and ridge λ
//     (--hyperclean-lower-reg; `--problem softmax` with --l2 λ is the same objective as one
//     block's g at σ ≡ 1), trained to ‖∇‖ ≤ 1e-8 by Newton-CG, and their test accuracy: on the
//     clean validation rows only ("clean subset only": the clean data the bilevel method has),
//     and on every training row with its corrupted label ("noisy labels, pooled").
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "distopt/bilevel/bilevel_metrics.hpp"
#include "distopt/bilevel/exact_hypergradient.hpp"
#include "distopt/bilevel/hyperclean.hpp"
#include "distopt/comm/environment.hpp"
#include "distopt/core/error.hpp"
#include "distopt/model/objective.hpp"
#include "distopt/io/hdf5.hpp"
#include "distopt/io/metrics.hpp"
#include "distopt/run/bilevel_config.hpp"
#include "distopt/run/config.hpp"
#include "distopt/run/options.hpp"

using namespace distopt;

namespace {

struct Built {
  std::unique_ptr<BilevelProblem> problem;
  HypercleanProblem* hc = nullptr;
  HypergradientSolveOptions solve;
};

Built build(Communicator& comm, const std::string& config_path, bool pooled = false) {
  std::vector<std::string> args = {"--config", config_path};
  if (pooled) args.insert(args.end(), {"--agents", "1"});
  const Config c = Config::parse(train_options(), args);
  Built b;
  const Index m = c.get_int("agents");
  b.problem = make_bilevel_problem(bilevel_problem_options_from(c), m, c.get_uint("seed"),
                                   Placement(m, comm.size(), comm.rank()));
  b.hc = dynamic_cast<HypercleanProblem*>(b.problem.get());
  if (!b.hc) throw ConfigError("bilevel-problem", "bench_hyperclean needs hyperclean");
  b.solve = hypergradient_solve_options_from(c);
  return b;
}

// The blocks' exact lower solutions at x and the mean of their lower metrics, as one CSV line.
void evaluate_at(Communicator& comm, Built& b, const char* label, const Vector& x) {
  std::vector<Vector> y;
  HypergradientStats st;
  const double F = exact_hypergradient(comm, Reduction::kOrdered, *b.problem, x, y, nullptr,
                                       b.solve, &st);
  MetricRow row;
  add_lower_metrics(comm, Reduction::kOrdered, *b.problem, x, y, "", row);
  if (comm.is_root()) {
    std::printf("%s,%.6f,%.4f,%.4f,%.4f,%.4f\n", label, F, row.get("test_accuracy"),
                row.get("val_accuracy"), row.get("weight_corrupted"), row.get("weight_clean"));
  }
}

void evaluate(Communicator& comm, const std::string& config, const std::string& result,
              bool pooled) {
  Built b = build(comm, config, pooled);
  const Index n = b.problem->upper_dim();
  const std::vector<double> xr = h5::File::open(result).read_doubles("model/x");
  if (static_cast<Index>(xr.size()) != n) {
    throw InputError(result + ": /model/x has " + std::to_string(xr.size()) + " entries, the "
                     "problem " + std::to_string(n));
  }
  // Ideal weights: each rank knows its blocks' corruption masks; the rest of x is never read by
  // its blocks, and a sum over ranks assembles the whole vector.
  Vector ideal = Vector::Zero(n);
  const Placement& pl = b.problem->placement();
  const double logit = std::log((1 - 1e-9) / 1e-9);
  for (Index i = pl.local_first(); i < pl.end(pl.rank()); ++i) {
    const auto& bad = b.hc->corrupted(i);
    for (std::size_t r = 0; r < bad.size(); ++r) {
      ideal[b.hc->offset(i) + static_cast<Index>(r)] = bad[r] ? -logit : logit;
    }
  }
  comm.allreduce_sum(ideal);
  if (comm.is_root()) {
    std::printf("weights,F,test_accuracy,val_accuracy,weight_corrupted,weight_clean\n");
  }
  const std::string blocks = pooled ? " pooled" : " per block";
  evaluate_at(comm, b, ("all weights 1 (noisy labels)" + blocks).c_str(),
              Vector::Constant(n, logit));
  evaluate_at(comm, b, ("learned weights (bilevel run)" + blocks).c_str(),
              Eigen::Map<const Vector>(xr.data(), n));
  evaluate_at(comm, b, ("ideal weights (clean rows only)" + blocks).c_str(), ideal);
}

// min_w mean CE + (λ/2)‖w‖² over `d` by Newton-CG (directions by conjugate gradients on the
// objective's Hessian-vector products, Armijo backtracking); returns the test accuracy.
double fit_and_test(const Dataset& d, const Dataset& test, double lambda) {
  Regularization reg;
  reg.l2 = lambda;
  auto obj = make_objective("softmax", d.cols(), d.n_classes(), d.task(), reg);
  const DataBlock rows = d.block(0, d.rows());
  Vector w = Vector::Zero(obj->dim()), g, dir, trial;
  double f = obj->loss_grad(w, rows, g);
  for (int it = 0; it < 100 && g.norm() > 1e-8; ++it) {
    dir.setZero(w.size());
    conjugate_gradient([&](const Vector& v, Vector& out) { obj->hvp(w, v, rows, out); }, g, dir,
                       1e-4, 500);
    double t = 1;
    for (int back = 0; back < 40; ++back, t *= 0.5) {
      trial = w - t * dir;
      if (obj->loss(trial, rows) <= f - 1e-4 * t * g.dot(dir)) break;
    }
    w.swap(trial);
    f = obj->loss_grad(w, rows, g);
  }
  return static_cast<double>(obj->sum_correct(w, test.block(0, test.rows()))) /
         static_cast<double>(test.rows());
}

void baselines(Communicator& comm, const std::string& config) {
  if (comm.size() != 1) throw ConfigError("np", "baselines runs on one rank");
  Built b = build(comm, config);
  const HypercleanProblem& p = *b.hc;
  const double lambda = b.problem->lower_strong_convexity(0);
  // Every block's training rows, in global row order, with their corrupted labels.
  Index rows = 0;
  for (Index i = 0; i < p.blocks(); ++i) rows += p.share(i);
  RowMatrix X(rows, p.features());
  Vector y(rows);
  for (Index i = 0; i < p.blocks(); ++i) {
    const Dataset& d = p.train_data(i);
    X.middleRows(p.offset(i), d.rows()) = d.dense();
    y.segment(p.offset(i), d.rows()) = d.labels();
  }
  const Dataset noisy(std::move(X), std::move(y), Task::kMulticlass, p.classes());
  std::printf("baseline,rows,test_accuracy\n");
  std::printf("clean subset only (validation rows),%lld,%.4f\n",
              static_cast<long long>(p.validation_data().rows()),
              fit_and_test(p.validation_data(), p.test_data(), lambda));
  std::printf("noisy labels pooled (all training rows),%lld,%.4f\n",
              static_cast<long long>(noisy.rows()), fit_and_test(noisy, p.test_data(), lambda));
}

}  // namespace

int main(int argc, char** argv) {
  Environment env(argc, argv);
  auto comm = Communicator::world();
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "evaluate" && (argc == 4 || (argc == 5 && std::string(argv[4]) == "pooled"))) {
    evaluate(comm, argv[2], argv[3], argc == 5);
  } else if (mode == "baselines" && argc == 3) {
    baselines(comm, argv[2]);
  } else {
    if (comm.is_root()) {
      std::fprintf(stderr,
                   "usage: bench_hyperclean evaluate CONFIG RESULT.h5 [pooled] | baselines CONFIG\n");
    }
    return 2;
  }
  return 0;
}
