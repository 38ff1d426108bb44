// The built-in methods and option groups. To add a family, add its entries here (or, from user
// code, call method_registry().add() before parsing options).
#include "distopt/run/method_registry.hpp"

#include "distopt/bilevel/exact_hypergradient_descent.hpp"
#include "distopt/dataparallel/gradient_descent.hpp"
#include "distopt/federated/fedavg.hpp"
#include "distopt/federated/fedbuff.hpp"
#include "distopt/federated/feddyn.hpp"
#include "distopt/federated/fedfix.hpp"
#include "distopt/federated/fedprox.hpp"
#include "distopt/federated/fedspeed.hpp"
#include "distopt/federated/scaffold.hpp"
#include "distopt/gossip/dadao.hpp"
#include "distopt/gossip/sync_gossip.hpp"
#include "distopt/run/async_federated_config.hpp"
#include "distopt/run/bilevel_config.hpp"
#include "distopt/run/compress_config.hpp"
#include "distopt/run/dataparallel_config.hpp"
#include "distopt/run/decentralized_fl_config.hpp"
#include "distopt/run/federated_config.hpp"
#include "distopt/run/gossip_config.hpp"

namespace distopt {

MethodFactory MethodFactory::bilevel(MakeBilevel f) {
  MethodFactory m;
  m.make_bilevel_ = std::move(f);
  return m;
}

std::unique_ptr<Algorithm> MethodFactory::operator()(const Config& config, RunContext& ctx) const {
  if (!make_) throw Error("method factory: this method does not run on a RunContext");
  return make_(config, ctx);
}

std::unique_ptr<Algorithm> MethodFactory::operator()(const Config& config,
                                                     BilevelContext& ctx) const {
  if (!make_bilevel_) throw Error("method factory: this method does not run on a bilevel problem");
  return make_bilevel_(config, ctx);
}

Registry<MethodFactory>& method_registry() {
  static Registry<MethodFactory> r = [] {
    Registry<MethodFactory> m("method", "algorithm");
    m.add({"gd", "", "distributed gradient descent (full batch)",
           [](const Config& c, RunContext& ctx) -> std::unique_ptr<Algorithm> {
             return std::make_unique<GradientDescent>(ctx, gradient_descent_options_from(c, false));
           }});
    m.add({"sgd", "", "distributed minibatch SGD (--batch-size rows per worker)",
           [](const Config& c, RunContext& ctx) -> std::unique_ptr<Algorithm> {
             return std::make_unique<GradientDescent>(ctx, gradient_descent_options_from(c, true));
           }});
    // Federated methods (ALGORITHMS.md §1).
    m.add({"fedavg", "", "FedAvg: local SGD steps, weighted average of the clients' models",
           [](const Config& c, RunContext& ctx) -> std::unique_ptr<Algorithm> {
             return std::make_unique<FedAvg>(ctx, federated_options_from(c));
           }});
    m.add({"fedprox", "", "FedProx: local steps with the proximal term (--prox-mu)",
           [](const Config& c, RunContext& ctx) -> std::unique_ptr<Algorithm> {
             return std::make_unique<FedProx>(ctx, fedprox_options_from(c));
           }});
    m.add({"scaffold", "", "SCAFFOLD (option II): control variates correct the client drift",
           [](const Config& c, RunContext& ctx) -> std::unique_ptr<Algorithm> {
             return std::make_unique<Scaffold>(ctx, federated_options_from(c));
           }});
    m.add({"feddyn", "", "FedDyn: dynamic regularisation (--feddyn-alpha)",
           [](const Config& c, RunContext& ctx) -> std::unique_ptr<Algorithm> {
             return std::make_unique<FedDyn>(ctx, feddyn_options_from(c));
           }});
    m.add({"fedspeed", "",
           "FedSpeed (--fedspeed-server all: the authors' code, default; active: the printed "
           "Algorithm 1; --fedspeed-lambda, -rho, -alpha, -normalize)",
           [](const Config& c, RunContext& ctx) -> std::unique_ptr<Algorithm> {
             return std::make_unique<FedSpeed>(ctx, fedspeed_options_from(c), "fedspeed");
           }});
    m.add({"fedspeed-sim", "",
           "alias of fedspeed --fedspeed-server all (the authors' FL-Simulator form)",
           [](const Config& c, RunContext& ctx) -> std::unique_ptr<Algorithm> {
             return std::make_unique<FedSpeed>(ctx, fedspeed_sim_options_from(c), "fedspeed-sim");
           }});
    // Asynchronous federated methods (ALGORITHMS.md §1), in simulated time.
    m.add({"fedbuff", "",
           "FedBuff: asynchronous clients, staleness-weighted buffer of K updates (--buffer-size)",
           [](const Config& c, RunContext& ctx) -> std::unique_ptr<Algorithm> {
             return std::make_unique<FedBuff>(ctx, fedbuff_options_from(c));
           }});
    m.add({"fedfix", "",
           "FedFix: asynchronous clients, aggregation every Delta t, unbiased weights",
           [](const Config& c, RunContext& ctx) -> std::unique_ptr<Algorithm> {
             return std::make_unique<FedFix>(ctx, fedfix_options_from(c));
           }});
    // Decentralized gossip (ALGORITHMS.md §3).
    m.add({"dadao", "", "DADAO: asynchronous decentralized, Poisson gradient and gossip clocks",
           [](const Config& c, RunContext& ctx) -> std::unique_ptr<Algorithm> {
             return std::make_unique<Dadao>(ctx, dadao_options_from(c));
           }});
    m.add({"gossip", "", "synchronous decentralized gradient descent with Metropolis gossip",
           [](const Config& c, RunContext& ctx) -> std::unique_ptr<Algorithm> {
             return std::make_unique<SyncGossip>(ctx, sync_gossip_options_from(c));
           }});
    // Decentralized federated learning (clients on --graph, no server; docs/algorithms.md).
    m.add({"dfedavg", "",
           "DFedAvg: local SGD steps, then --gossip-steps Metropolis gossip steps on --graph",
           [](const Config& c, RunContext& ctx) -> std::unique_ptr<Algorithm> {
             return std::make_unique<DecentralizedFL>(
                 ctx, decentralized_fl_options_from(c, DecentralizedLocalStep::kSgd),
                 DecentralizedLocalStep::kSgd);
           }});
    m.add({"dfedsam", "",
           "DFedSAM: local SAM steps (--sam-rho), then gossip; --gossip-steps Q > 1: DFedSAM-MGS",
           [](const Config& c, RunContext& ctx) -> std::unique_ptr<Algorithm> {
             return std::make_unique<DecentralizedFL>(
                 ctx, decentralized_fl_options_from(c, DecentralizedLocalStep::kSam),
                 DecentralizedLocalStep::kSam);
           }});
    // Multi-block bilevel optimisation (ALGORITHMS.md §4): methods that bring their own problem
    // (--bilevel-problem, m blocks = --agents), registered with MethodFactory::bilevel.
    m.add({"exact-hypergrad", "",
           "bilevel: exact full-batch hypergradient descent on --bilevel-problem (the reference)",
           MethodFactory::bilevel(
               [](const Config& c, BilevelContext& ctx) -> std::unique_ptr<Algorithm> {
                 return std::make_unique<ExactHypergradientDescent>(
                     ctx, exact_hypergrad_options_from(c));
               })});
    m.add({"bsvrb1", "",
           "bilevel: BSVRB v1 (Hu et al. 2023): MSVR-tracked lower Hessians, STORM on x",
           MethodFactory::bilevel(
               [](const Config& c, BilevelContext& ctx) -> std::unique_ptr<Algorithm> {
                 return std::make_unique<Bsvrb>(ctx, bsvrb_options_from(c, BsvrbVersion::kV1));
               })});
    m.add({"bsvrb2", "",
           "bilevel: BSVRB v2: Hessian-vector products only, lazy catch-up, projected v",
           MethodFactory::bilevel(
               [](const Config& c, BilevelContext& ctx) -> std::unique_ptr<Algorithm> {
                 return std::make_unique<Bsvrb>(ctx, bsvrb_options_from(c, BsvrbVersion::kV2));
               })});
    m.add({"f2sa", "", "bilevel: F2SA (Kwon et al. 2023): fully first-order penalty method",
           MethodFactory::bilevel(
               [](const Config& c, BilevelContext& ctx) -> std::unique_ptr<Algorithm> {
                 return std::make_unique<F2sa>(ctx, f2sa_options_from(c));
               })});
    m.add({"stocbio", "",
           "bilevel: stocBiO (Ji et al. 2021): inner SGD steps, Neumann-series inverse Hessian",
           MethodFactory::bilevel(
               [](const Config& c, BilevelContext& ctx) -> std::unique_ptr<Algorithm> {
                 return std::make_unique<Stocbio>(ctx, stocbio_options_from(c));
               })});
    return m;
  }();
  return r;
}

Registry<OptionGroup>& option_groups() {
  static Registry<OptionGroup> r = [] {
    Registry<OptionGroup> g("option group", "config");
    g.add(
        {"compression", "", "uplink and downlink compression, error feedback", add_uplink_options});
    g.add({"federated", "", "federated methods", add_federated_options});
    g.add({"gossip", "", "decentralized gossip methods", add_gossip_options});
    g.add({"async-federated", "", "asynchronous federated methods (fedbuff, fedfix)",
           add_async_federated_options});
    g.add({"decentralized-fl", "", "decentralized federated learning (dfedavg, dfedsam)",
           add_decentralized_fl_options});
    g.add({"bilevel", "", "multi-block bilevel methods", add_bilevel_options});
    return g;
  }();
  return r;
}

void add_method_options(po::options_description& d) {
  for (const auto& g : option_groups().entries()) g.make(d);
}

std::unique_ptr<Algorithm> make_algorithm(const Config& config, RunContext& ctx) {
  const auto name = config.get("algorithm");
  const auto& factory = method_registry().get(name).make;
  if (factory.owns_problem()) {
    throw ConfigError("algorithm", "'" + name +
                                       "' is a bilevel method: it runs on --bilevel-problem, not "
                                       "on the run's data (see make_bilevel_algorithm)");
  }
  return factory(config, ctx);
}

std::unique_ptr<Algorithm> make_bilevel_algorithm(const Config& config, BilevelContext& ctx) {
  const auto name = config.get("algorithm");
  const auto& factory = method_registry().get(name).make;
  if (!factory.owns_problem()) {
    throw ConfigError("algorithm", "'" + name + "' is not a bilevel method");
  }
  return factory(config, ctx);
}

bool method_owns_problem(const Config& config) {
  return method_registry().get(config.get("algorithm")).make.owns_problem();
}

}  // namespace distopt
