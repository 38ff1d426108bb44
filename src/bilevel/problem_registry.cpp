#include "distopt/bilevel/problem_registry.hpp"

#include "distopt/core/error.hpp"

namespace distopt {

void BilevelProblemOptions::validate() const {
  if (problem.empty()) throw ConfigError("bilevel-problem", "must not be empty");
  if (data.empty()) throw ConfigError("bilevel-data", "must not be empty");
  if (split_spec(problem).kind == "multitask") multitask.validate();
  if (split_spec(problem).kind == "reweight") reweight.validate();
  if (split_spec(problem).kind == "hyperclean") hyperclean.validate();
}

void BilevelProblemArgs::no_arg() const {
  if (has_arg) throw bilevel_problem_registry().unknown(spec);
}

BilevelProblemRegistry& bilevel_problem_registry() {
  static BilevelProblemRegistry r = [] {
    BilevelProblemRegistry reg("bilevel problem", "bilevel-problem");
    reg.add({"multitask", "multitask",
             "multi-task hyper-representation, squared loss, closed-form lower solutions",
             [](const BilevelProblemArgs& a) -> std::unique_ptr<BilevelProblem> {
               a.no_arg();
               return std::make_unique<MultitaskProblem>(a.options.multitask, a.blocks, a.seed,
                                                         a.placement);
             }});
    reg.add({"reweight", "reweight",
             "per-sample weights of temperature-scaled logistic blocks on a noisy binary pair of "
             "--bilevel-data (BSVRB's hyper-parameter task)",
             [](const BilevelProblemArgs& a) -> std::unique_ptr<BilevelProblem> {
               a.no_arg();
               return std::make_unique<ReweightProblem>(a.options.reweight, a.options.data,
                                                        a.blocks, a.seed, a.placement,
                                                        a.options.max_memory);
             }});
    reg.add({"hyperclean", "hyperclean",
             "data hyper-cleaning: per-row weights sigma(x_j) of noisy --bilevel-data labels, "
             "softmax regression per block",
             [](const BilevelProblemArgs& a) -> std::unique_ptr<BilevelProblem> {
               a.no_arg();
               return std::make_unique<HypercleanProblem>(a.options.hyperclean, a.options.data,
                                                          a.blocks, a.seed, a.placement,
                                                          a.options.max_memory);
             }});
    return reg;
  }();
  return r;
}

std::unique_ptr<BilevelProblem> make_bilevel_problem(const BilevelProblemOptions& options,
                                                     Index blocks, std::uint64_t seed,
                                                     const Placement& placement) {
  options.validate();
  if (blocks < 1) throw ConfigError("agents", "a bilevel problem needs at least one block");
  const SpecParts parts = split_spec(options.problem);
  const auto& entry = bilevel_problem_registry().get(parts.kind, options.problem);
  BilevelProblemArgs args;
  args.spec = options.problem;
  args.arg = parts.arg;
  args.has_arg = parts.has_arg;
  args.blocks = blocks;
  args.seed = seed;
  args.placement = placement;
  args.options = options;
  auto problem = entry.make(args);
  if (!problem) throw Error("bilevel problem factory '" + parts.kind + "' returned nothing");
  validate_bilevel_problem(*problem);
  return problem;
}

}  // namespace distopt
