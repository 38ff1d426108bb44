#pragma once
// Config keys -> the multi-block bilevel family's typed options, and what the experiment needs to
// run a bilevel method through the Trainer.
//
// Keys (the option group "bilevel" of run/method_registry.cpp; defaults are the typed structs'):
//  * the problem: --bilevel-problem (BilevelProblemOptions::problem) and the multitask keys
//    --multitask-features, --multitask-rank, --multitask-train-rows, --multitask-val-rows,
//    --bilevel-lower-reg, --bilevel-upper-reg, --multitask-noise (MultitaskOptions), the data of
//    the problems that read data --bilevel-data, and the hyperclean keys --hyperclean-train-rows,
//    --hyperclean-val-rows, --hyperclean-test-rows, --hyperclean-corruption, --hyperclean-pool,
//    --hyperclean-lower-reg (HypercleanOptions); the number of blocks m is --agents;
//  * the exact solves: --bilevel-solver, --bilevel-cg-tol, --bilevel-cg-max-iter,
//    --bilevel-lower-tol, --bilevel-lower-max-iter (HypergradientSolveOptions);
//  * the block sampler of the stochastic methods: --blocks-per-iter, --block-batch
//    (BlockSamplerOptions).
// --lr (a common option) is the step on x of exact-hypergrad.
//
// A bilevel method brings its own problem (MethodFactory::bilevel): it does not read --data,
// --problem or the other data and model keys, and giving one of them explicitly to it is an
// error, as is giving a key of the bilevel group to a method of another family
// (check_option_families()).
#include <cstdint>
#include <string>
#include <vector>

#include "distopt/bilevel/bilevel_problem.hpp"
#include "distopt/bilevel/block_sampler.hpp"
#include "distopt/bilevel/bsvrb.hpp"
#include "distopt/bilevel/exact_hypergradient.hpp"
#include "distopt/bilevel/exact_hypergradient_descent.hpp"
#include "distopt/bilevel/f2sa.hpp"
#include "distopt/bilevel/hyperclean.hpp"
#include "distopt/bilevel/multitask.hpp"
#include "distopt/bilevel/problem_registry.hpp"
#include "distopt/bilevel/stocbio.hpp"
#include "distopt/comm/agent_sum.hpp"
#include "distopt/comm/communicator.hpp"
#include "distopt/data/local_data.hpp"
#include "distopt/method/algorithm.hpp"
#include "distopt/model/objective.hpp"
#include "distopt/model/parameter_layout.hpp"
#include "distopt/run/config.hpp"

namespace distopt {

/// Declares the bilevel group's options (see the file comment), with the typed structs'
/// defaults and --bilevel-problem's choices from bilevel_problem_registry().
void add_bilevel_options(po::options_description& d);
/// The long names of the options add_bilevel_options() declares ("bilevel-problem", ...).
std::vector<std::string> bilevel_option_keys();

/// --multitask-features, --multitask-rank, --multitask-train-rows, --multitask-val-rows,
/// --bilevel-lower-reg, --bilevel-upper-reg, --multitask-noise; validated (ConfigError naming
/// the key: e.g. --bilevel-lower-reg must be positive, the lower problem strongly convex).
MultitaskOptions multitask_options_from(const Config& config);
/// --reweight-classes, --reweight-train-rows, --reweight-val-rows, --reweight-noise,
/// --reweight-pool, --reweight-temperatures, --reweight-lower-reg; validated (ConfigError naming
/// the key).
ReweightOptions reweight_options_from(const Config& config);
/// --hyperclean-train-rows, --hyperclean-val-rows, --hyperclean-test-rows,
/// --hyperclean-corruption, --hyperclean-pool, --hyperclean-lower-reg; validated (ConfigError
/// naming the key).
HypercleanOptions hyperclean_options_from(const Config& config);
/// --bilevel-problem and, when it selects a built-in problem, that problem's keys; validated. A
/// key of one built-in problem (multitask-* with --bilevel-lower-reg and --bilevel-upper-reg,
/// reweight-*, hyperclean-*) given with another problem is a ConfigError naming it.
BilevelProblemOptions bilevel_problem_options_from(const Config& config);
/// --bilevel-solver, --bilevel-cg-tol, --bilevel-cg-max-iter, --bilevel-lower-tol,
/// --bilevel-lower-max-iter; validated.
HypergradientSolveOptions hypergradient_solve_options_from(const Config& config);
/// --blocks-per-iter, --block-batch; validated against their minimums (the bounds that need the
/// problem: check_block_sampler_options()).
BlockSamplerOptions block_sampler_options_from(const Config& config);
/// exact-hypergrad: --lr (a positive number) and the solve keys; validated.
ExactHypergradOptions exact_hypergrad_options_from(const Config& config);
/// --lr (only when given: the default is BSVRB's reference 1e-3, not the common 0.1), the
/// bsvrb-* keys, the sampler and the evaluation solves; validated.
BsvrbOptions bsvrb_options_from(const Config& config, BsvrbVersion version);
/// The f2sa-* keys (f2sa-lambda-max "none": no cap), the sampler and the evaluation solves;
/// validated.
F2saOptions f2sa_options_from(const Config& config);
/// --lr (default 0.1, the benchmark's step), the stocbio-* keys, the sampler and the evaluation
/// solves; validated (ConfigError naming the key).
StocbioOptions stocbio_options_from(const Config& config);

/// Throws ConfigError naming the key when the config mixes families: a key of the bilevel group
/// given explicitly (Config::given) with a method that does not bring its own problem
/// (`owns_problem` false), or one of the data and model keys a bilevel method does not read
/// (--data, --problem, --partition, --test-fraction, --weighting, --l2, --nonconvex-reg,
/// --batch-size) given explicitly with a method that does.
void check_option_families(const Config& config, bool owns_problem);
/// Checks each of --blocks-per-iter and --block-batch that is given explicitly against the
/// problem as the BlockSampler does: ConfigError("blocks-per-iter") unless I ≤ m (the blocks,
/// --agents), ConfigError("block-batch") unless B ≤ the upper and lower rows of every block. So the
/// error comes before any work whichever bilevel method runs (exact-hypergrad is full batch and
/// does not otherwise read them).
void check_block_sampler_options(const Config& config, const BilevelProblem& problem);

/// The Objective a Trainer sees for a bilevel method: of dimension `upper_dim()` (one parameter
/// block "x"), with initial_point(seed) = problem.initial_upper(seed). It has no data: a bilevel
/// method evaluates itself (Algorithm::evaluates_itself()), so the Trainer never calls its loss
/// functions, and sum_loss() and sum_correct() throw Error if anything does.
class BilevelUpperObjective : public Objective {
 public:
  /// Adapts `problem` (kept by reference).
  explicit BilevelUpperObjective(const BilevelProblem& problem);
  /// "bilevel:" followed by the problem's name.
  std::string name() const override;
  /// One block "x" of `upper_dim()`.
  const ParameterLayout& layout() const override { return layout_; }
  /// Throws Error: a bilevel method evaluates itself.
  double sum_loss(const Vector& x, const DataBlock& rows, Vector* g) const override;
  /// Throws Error: a bilevel method evaluates itself.
  Index sum_correct(const Vector& x, const DataBlock& rows) const override;
  /// +inf (unknown).
  double smoothness(const DataBlock& rows) const override;
  /// 0 (unknown).
  double strong_convexity(const DataBlock& rows) const override;
  /// problem.initial_upper(seed).
  Vector initial_point(std::uint64_t seed) const override;

 private:
  const BilevelProblem& problem_;
  ParameterLayout layout_;
};

/// What a Trainer and a bilevel method run on, for a problem placed over `comm`'s ranks: a
/// RunContext whose objective is a BilevelUpperObjective, whose data are an empty LocalData with
/// one agent (no rows) per block, whose placement is the problem's and whose agent weights are
/// 1/m; and the BilevelContext the method is built from. Neither copyable nor movable (the
/// contexts refer to its members).
class BilevelRunContext {
 public:
  /// Builds both contexts (`comm` and `problem` kept by reference).
  BilevelRunContext(Communicator& comm, BilevelProblem& problem, std::uint64_t seed,
                    Reduction reduction);
  BilevelRunContext(const BilevelRunContext&) = delete;             ///< not copyable
  BilevelRunContext& operator=(const BilevelRunContext&) = delete;  ///< not copyable
  /// What the Trainer runs on.
  RunContext& run() { return run_; }
  /// What the bilevel method is built from.
  BilevelContext& bilevel() { return bilevel_; }

 private:
  BilevelUpperObjective objective_;
  LocalData data_;
  RunContext run_;
  BilevelContext bilevel_;
};

}  // namespace distopt
