#include "distopt/run/bilevel_config.hpp"

#include <array>
#include <charconv>
#include <limits>

#include "distopt/bilevel/bsvrb.hpp"
#include "distopt/bilevel/f2sa.hpp"
#include "distopt/core/error.hpp"
#include "distopt/core/parse.hpp"
#include "distopt/data/memory_budget.hpp"

namespace distopt {

namespace {

// The shortest text that reads back as `v` ("0.1", "1e-12"): the --help defaults are the typed
// structs' own values.
std::string str(double v) {
  std::array<char, 32> buf{};
  const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  return std::string(buf.data(), r.ptr);
}
std::string str(Index v) {
  return std::to_string(v);
}

// The keys of the data and model a bilevel method does not read.
constexpr const char* kDataKeys[] = {"data",      "problem", "partition",     "test-fraction",
                                     "weighting", "l2",      "nonconvex-reg", "batch-size",
                                     "precision"};

}  // namespace

void add_bilevel_options(po::options_description& d) {
  const BilevelProblemOptions problem;
  const MultitaskOptions& mt = problem.multitask;
  const HypergradientSolveOptions solve;
  const BlockSamplerOptions sampler;
  auto add = [&](const char* key, const std::string& def, const std::string& help) {
    add_option(d, key, def.c_str(), help.c_str());
  };
  add("bilevel-problem", problem.problem,
      "bilevel methods: the problem (m blocks = --agents): " +
          bilevel_problem_registry().choices());
  add("bilevel-data", problem.data,
      "bilevel problems that read data (reweight, hyperclean): a --data spec");
  add("multitask-features", str(mt.features), "multitask: feature dimension p");
  add("multitask-rank", str(mt.rank),
      "multitask: rank k of the shared representation (x is p x k; the lower dimension)");
  add("multitask-train-rows", str(mt.train_rows), "multitask: training (lower) rows per block");
  add("multitask-val-rows", str(mt.val_rows), "multitask: validation (upper) rows per block");
  add("bilevel-lower-reg", str(mt.lower_reg),
      "multitask: ridge lambda > 0 on the heads y_i (the lower strong convexity)");
  add("bilevel-upper-reg", str(mt.upper_reg), "multitask: ridge rho >= 0 on W in the upper loss");
  add("multitask-noise", str(mt.noise), "multitask: standard deviation of the label noise");
  const ReweightOptions& rw = problem.reweight;
  add("reweight-classes", str(rw.classes[0]) + "," + str(rw.classes[1]),
      "reweight: the two classes c0,c1 of --bilevel-data (c0 -> label -1, c1 -> +1)");
  add("reweight-train-rows", str(rw.train_rows),
      "reweight: training (lower) rows, one weight logit each (the dimension of x)");
  add("reweight-val-rows", str(rw.val_rows), "reweight: validation (upper) rows");
  add("reweight-noise", str(rw.noise),
      "reweight: probability that a training label is flipped, in [0, 1)");
  add("reweight-pool", str(rw.pool),
      "reweight: average-pool the 28x28 images by this window (divides 28; 1 = raw)");
  add("reweight-temperatures", str(rw.temperatures[0]) + "," + str(rw.temperatures[1]),
      "reweight: temperatures of the first and last block, log-spaced between");
  add("reweight-lower-reg", str(rw.lower_reg),
      "reweight: ridge lambda > 0 on every y_i (the lower strong convexity)");
  const HypercleanOptions& hc = problem.hyperclean;
  add("hyperclean-train-rows", str(hc.train_rows),
      "hyperclean: training rows n over all blocks (x has n entries)");
  add("hyperclean-val-rows", str(hc.val_rows), "hyperclean: clean validation rows (every block)");
  add("hyperclean-test-rows", str(hc.test_rows), "hyperclean: test rows (0: the whole test split)");
  add("hyperclean-corruption", str(hc.corruption),
      "hyperclean: probability that a training label is redrawn uniformly");
  add("hyperclean-pool", str(hc.pool),
      "hyperclean: average-pool 28x28 images by pool x pool (a divisor of 28)");
  add("hyperclean-lower-reg", str(hc.lower_reg),
      "hyperclean: ridge lambda > 0 on every block's softmax model");
  add("bilevel-solver", to_string(solve.solver),
      "exact lower-Hessian systems: auto (Cholesky when the problem forms the lower Hessian, "
      "else CG) | cholesky | cg");
  add("bilevel-cg-tol", str(solve.cg_tol), "CG stops at relative residual <= this, in (0, 1)");
  add("bilevel-cg-max-iter", str(solve.cg_max_iter), "at most this many CG iterations per system");
  add("bilevel-lower-tol", str(solve.lower_tol),
      "exact lower solves stop when ||grad_y g_i|| <= this");
  add("bilevel-lower-max-iter", str(solve.lower_max_iter),
      "at most this many Newton steps per exact lower solve");
  add("blocks-per-iter", str(sampler.blocks_per_iter),
      "stochastic bilevel methods: blocks I sampled per iteration, in [1, m]");
  add("block-batch", str(sampler.block_batch),
      "stochastic bilevel methods: samples B per sampled block and level (0 = every row)");
  add("block-sampling", to_string(sampler.sampling),
      "stochastic bilevel methods: uniform (epoch-shuffled, the same trajectory at any rank "
      "count) | stratified (each rank gets its share of the I blocks: balanced load, trajectory "
      "depends on the rank count)");
  const BsvrbOptions bsvrb;
  add("bsvrb-alpha", str(bsvrb.alpha), "bsvrb1/bsvrb2: MSVR weight alpha in (0, 1]");
  add("bsvrb-gamma", str(bsvrb.gamma), "bsvrb1/bsvrb2: MSVR correction gamma >= 0");
  add("bsvrb-beta", str(bsvrb.beta),
      "bsvrb1/bsvrb2: STORM weight beta in (0, 1] of the upper estimate");
  add("bsvrb-tau", str(bsvrb.tau),
      "bsvrb1/bsvrb2: step tau on the y_i (0: the reference scripts' 0.5 for v1, 1 for v2)");
  add("bsvrb-tau-v", str(bsvrb.tau_v), "bsvrb2: step on the v_i (0: tau)");
  add("bsvrb-hessian-bound", str(bsvrb.hessian_bound),
      "bsvrb1: Frobenius-norm floor of the tracked lower Hessians (the reference's H_bound)");
  add("bsvrb-v-bound", str(bsvrb.v_bound), "bsvrb2: radius of the ball the v_i are projected on");
  add("bsvrb-init", to_string(bsvrb.init),
      "bsvrb1/bsvrb2: start of the estimators: zero (previous point = first point) | reference "
      "(random, as the reference code)");
  const F2saOptions f2sa;
  add("f2sa-alpha", str(f2sa.alpha), "f2sa: step alpha on the y_i");
  add("f2sa-gamma", str(f2sa.gamma), "f2sa: step gamma on the z_i (the lower solutions)");
  add("f2sa-xi", str(f2sa.xi), "f2sa: the x step is xi * alpha");
  add("f2sa-lambda0", str(f2sa.lambda0), "f2sa: first penalty multiplier lambda_0 > 0");
  add("f2sa-lambda-step", str(f2sa.lambda_step), "f2sa: increase delta of lambda per iteration");
  add("f2sa-lambda-max", "none", "f2sa: cap on lambda (none: no cap)");
  add("f2sa-inner-steps", str(f2sa.inner_steps), "f2sa: inner steps T per iteration");
  add("f2sa-y-inner", f2sa.y_inner ? "true" : "false",
      "f2sa: y runs the T inner steps with z (the paper's box) | false: one y step per iteration");
  add("f2sa-step-decay", str(f2sa.step_decay),
      "f2sa: steps decay as k^(-a) (0: constant; the benchmark's 0.5)");
  const StocbioOptions stocbio;
  add("stocbio-inner-lr", str(stocbio.inner_lr), "stocbio: step alpha of the inner steps on y");
  add("stocbio-inner-steps", str(stocbio.inner_steps),
      "stocbio: inner SGD steps D per sampled block and iteration");
  add("stocbio-neumann-lr", str(stocbio.neumann_lr),
      "stocbio: Neumann step eta (the series converges for eta L_g < 2)");
  add("stocbio-neumann-steps", str(stocbio.neumann_steps),
      "stocbio: Neumann terms Q beyond the first (one HVP each)");
}

std::vector<std::string> bilevel_option_keys() {
  po::options_description d;
  add_bilevel_options(d);
  std::vector<std::string> keys;
  for (const auto& o : d.options()) keys.push_back(o->long_name());
  return keys;
}

MultitaskOptions multitask_options_from(const Config& c) {
  MultitaskOptions o;
  o.features = c.get_int("multitask-features");
  o.rank = c.get_int("multitask-rank");
  o.train_rows = c.get_int("multitask-train-rows");
  o.val_rows = c.get_int("multitask-val-rows");
  o.lower_reg = c.get_double("bilevel-lower-reg");
  o.upper_reg = c.get_double("bilevel-upper-reg");
  o.noise = c.get_double("multitask-noise");
  o.validate();
  return o;
}

namespace {

// "a,b" into two values parsed by `parse` (ConfigError(key) otherwise).
template <class T, class Parse>
std::array<T, 2> parse_pair(const std::string& key, const std::string& text, Parse parse) {
  const auto comma = text.find(',');
  if (comma == std::string::npos || text.find(',', comma + 1) != std::string::npos) {
    throw ConfigError(key, "expected two comma-separated values, got '" + text + "'");
  }
  return {static_cast<T>(parse(key, text.substr(0, comma))),
          static_cast<T>(parse(key, text.substr(comma + 1)))};
}

// The built-in problem whose own option `key` is ("" for a key every problem reads): what
// another problem must not be given.
std::string problem_of_key(const std::string& key) {
  if (key.rfind("multitask-", 0) == 0 || key == "bilevel-lower-reg" ||
      key == "bilevel-upper-reg") {
    return "multitask";
  }
  if (key.rfind("reweight-", 0) == 0) return "reweight";
  if (key.rfind("hyperclean-", 0) == 0) return "hyperclean";
  return "";
}

}  // namespace

ReweightOptions reweight_options_from(const Config& c) {
  ReweightOptions o;
  o.classes = parse_pair<Index>("reweight-classes", c.get("reweight-classes"), parse_int);
  o.train_rows = c.get_int("reweight-train-rows");
  o.val_rows = c.get_int("reweight-val-rows");
  o.noise = c.get_double("reweight-noise");
  o.pool = c.get_int("reweight-pool");
  o.temperatures =
      parse_pair<double>("reweight-temperatures", c.get("reweight-temperatures"), parse_double);
  o.lower_reg = c.get_double("reweight-lower-reg");
  o.validate();
  return o;
}

HypercleanOptions hyperclean_options_from(const Config& c) {
  HypercleanOptions o;
  o.train_rows = c.get_int("hyperclean-train-rows");
  o.val_rows = c.get_int("hyperclean-val-rows");
  o.test_rows = c.get_int("hyperclean-test-rows");
  o.corruption = c.get_double("hyperclean-corruption");
  o.pool = c.get_int("hyperclean-pool");
  o.lower_reg = c.get_double("hyperclean-lower-reg");
  o.validate();
  return o;
}

BilevelProblemOptions bilevel_problem_options_from(const Config& c) {
  BilevelProblemOptions o;
  o.problem = c.get("bilevel-problem");
  o.data = c.get("bilevel-data");
  o.max_memory = parse_memory_size("max-memory", c.get("max-memory"));
  const std::string kind = split_spec(o.problem).kind;
  // An unknown name first: its error says what is known (before the keys it would reject).
  if (!o.problem.empty() && !bilevel_problem_registry().find(kind)) {
    throw bilevel_problem_registry().unknown(o.problem);
  }
  for (const auto& key : bilevel_option_keys()) {
    const std::string owner = problem_of_key(key);
    if (!owner.empty() && owner != kind && c.given(key)) {
      throw ConfigError(key, "is an option of --bilevel-problem " + owner + ", not of " +
                                 o.problem);
    }
  }
  if (kind == "multitask") o.multitask = multitask_options_from(c);
  if (kind == "reweight") o.reweight = reweight_options_from(c);
  if (kind == "hyperclean") o.hyperclean = hyperclean_options_from(c);
  o.validate();
  return o;
}

HypergradientSolveOptions hypergradient_solve_options_from(const Config& c) {
  HypergradientSolveOptions o;
  o.solver = linear_solver_from_string(c.get("bilevel-solver"));
  o.cg_tol = c.get_double("bilevel-cg-tol");
  o.cg_max_iter = c.get_int("bilevel-cg-max-iter");
  o.lower_tol = c.get_double("bilevel-lower-tol");
  o.lower_max_iter = c.get_int("bilevel-lower-max-iter");
  o.validate();
  return o;
}

BlockSamplerOptions block_sampler_options_from(const Config& c) {
  BlockSamplerOptions o;
  o.blocks_per_iter = c.get_int("blocks-per-iter");
  o.block_batch = c.get_int("block-batch");
  o.sampling = block_sampling_from_string(c.get("block-sampling"));
  o.validate();
  return o;
}

ExactHypergradOptions exact_hypergrad_options_from(const Config& c) {
  ExactHypergradOptions o;
  o.lr = c.get_positive("lr");
  o.solve = hypergradient_solve_options_from(c);
  o.validate();
  return o;
}

BsvrbOptions bsvrb_options_from(const Config& c, BsvrbVersion version) {
  BsvrbOptions o;
  o.version = version;
  // --lr is shared by every method and defaults to 0.1; BSVRB's reference step on x is 1e-3.
  if (c.given("lr")) o.lr = c.get_nonnegative("lr");
  o.alpha = c.get_double("bsvrb-alpha");
  o.gamma = c.get_double("bsvrb-gamma");
  o.beta = c.get_double("bsvrb-beta");
  o.tau = c.get_double("bsvrb-tau");
  o.tau_v = c.get_double("bsvrb-tau-v");
  o.hessian_bound = c.get_double("bsvrb-hessian-bound");
  o.v_bound = c.get_double("bsvrb-v-bound");
  o.init = bsvrb_init_from_string(c.get("bsvrb-init"));
  o.sampler = block_sampler_options_from(c);
  o.solve = hypergradient_solve_options_from(c);
  o.validate();
  return o;
}

F2saOptions f2sa_options_from(const Config& c) {
  F2saOptions o;
  o.alpha = c.get_double("f2sa-alpha");
  o.gamma = c.get_double("f2sa-gamma");
  o.xi = c.get_double("f2sa-xi");
  o.lambda0 = c.get_double("f2sa-lambda0");
  o.lambda_step = c.get_double("f2sa-lambda-step");
  if (c.get("f2sa-lambda-max") != "none") o.lambda_max = c.get_double("f2sa-lambda-max");
  o.inner_steps = c.get_int("f2sa-inner-steps");
  o.y_inner = c.get_bool("f2sa-y-inner");
  o.step_decay = c.get_double("f2sa-step-decay");
  o.sampler = block_sampler_options_from(c);
  o.solve = hypergradient_solve_options_from(c);
  o.validate();
  return o;
}

StocbioOptions stocbio_options_from(const Config& c) {
  StocbioOptions o;
  o.lr = c.get_nonnegative("lr");
  o.inner_lr = c.get_double("stocbio-inner-lr");
  o.inner_steps = c.get_int("stocbio-inner-steps");
  o.neumann_lr = c.get_double("stocbio-neumann-lr");
  o.neumann_steps = c.get_int("stocbio-neumann-steps");
  o.sampler = block_sampler_options_from(c);
  o.solve = hypergradient_solve_options_from(c);
  o.validate();
  return o;
}

void check_option_families(const Config& c, bool owns_problem) {
  const std::string algorithm = c.get("algorithm");
  if (!owns_problem) {
    for (const auto& key : bilevel_option_keys()) {
      if (c.given(key)) {
        throw ConfigError(key, "is an option of the bilevel methods; --algorithm " + algorithm +
                                   " does not use it");
      }
    }
    return;
  }
  for (const char* key : kDataKeys) {
    if (c.given(key)) {
      throw ConfigError(key, "--algorithm " + algorithm +
                                 " is a bilevel method: it runs on --bilevel-problem and does "
                                 "not use this option");
    }
  }
  // A method's own keys (bsvrb-*, f2sa-*, stocbio-*) given to another bilevel method.
  struct Prefix {
    const char* prefix;
    bool applies;
  };
  const Prefix prefixes[] = {{"bsvrb-", algorithm == "bsvrb1" || algorithm == "bsvrb2"},
                             {"f2sa-", algorithm == "f2sa"},
                             {"stocbio-", algorithm == "stocbio"}};
  for (const auto& key : bilevel_option_keys()) {
    for (const Prefix& p : prefixes) {
      if (!p.applies && key.rfind(p.prefix, 0) == 0 && c.given(key)) {
        throw ConfigError(key, "is not an option of --algorithm " + algorithm);
      }
    }
  }
}

void check_block_sampler_options(const Config& c, const BilevelProblem& problem) {
  if (!c.given("blocks-per-iter") && !c.given("block-batch")) return;
  // Only the keys given: the other takes a value every problem accepts (I = 1, B = 0).
  BlockSamplerOptions o = block_sampler_options_from(c);
  if (!c.given("blocks-per-iter")) o.blocks_per_iter = 1;
  if (!c.given("block-batch")) o.block_batch = 0;
  const BlockSampler check(problem, o, 0);  // throws ConfigError naming the key
  (void)check;
}

// ---------------- the Trainer's view of a bilevel problem ----------------

BilevelUpperObjective::BilevelUpperObjective(const BilevelProblem& problem) : problem_(problem) {
  layout_.add("x", problem.upper_dim());
}

std::string BilevelUpperObjective::name() const {
  return "bilevel:" + problem_.name();
}

double BilevelUpperObjective::sum_loss(const Vector& /*x*/, const DataBlock& /*rows*/,
                                       Vector* /*g*/) const {
  throw Error("BilevelUpperObjective has no data: a bilevel method evaluates itself");
}

Index BilevelUpperObjective::sum_correct(const Vector& /*x*/, const DataBlock& /*rows*/) const {
  throw Error("BilevelUpperObjective has no data: a bilevel method evaluates itself");
}

double BilevelUpperObjective::smoothness(const DataBlock& /*rows*/) const {
  return std::numeric_limits<double>::infinity();
}

double BilevelUpperObjective::strong_convexity(const DataBlock& /*rows*/) const {
  return 0;
}

Vector BilevelUpperObjective::initial_point(std::uint64_t seed) const {
  return problem_.initial_upper(seed);
}

namespace {

LocalData empty_data(const Placement& pl) {
  LocalData d;
  d.agent_rows.assign(static_cast<std::size_t>(pl.agents()), 0);
  d.first_agent = pl.local_first();
  d.local_offsets.assign(static_cast<std::size_t>(pl.local_count()) + 1, 0);
  d.description = "none (a bilevel method: the problem holds its own data)";
  return d;
}

}  // namespace

BilevelRunContext::BilevelRunContext(Communicator& comm, BilevelProblem& problem,
                                     std::uint64_t seed, Reduction reduction)
    : objective_(problem),
      data_(empty_data(problem.placement())),
      run_{comm,
           objective_,
           data_,
           problem.placement(),
           seed,
           reduction,
           std::vector<double>(static_cast<std::size_t>(problem.blocks()),
                               1.0 / static_cast<double>(problem.blocks()))},
      bilevel_{comm, problem, seed, reduction} {}

}  // namespace distopt
