// The method registry: each family declares its options and builds the methods it knows. To add a
// family, add one entry to kFamilies.
#include <functional>

#include "distopt/compress/uplink.hpp"
#include "distopt/core/error.hpp"
#include "distopt/dataparallel/gradient_descent.hpp"
#include "distopt/federated/federated.hpp"
#include "distopt/run/compress_config.hpp"
#include "distopt/run/gossip_config.hpp"
#include "distopt/run/method_registry.hpp"

namespace distopt {

namespace {

struct Family {
  const char* names;  // for the error message
  std::function<void(po::options_description&)> add_options;
  /// Returns nullptr if the name is not one of this family's.
  std::function<std::unique_ptr<Algorithm>(const std::string&, RunContext&)> make;
};

const std::vector<Family>& families() {
  static const std::vector<Family> kFamilies = {
      {"gd, sgd", add_uplink_options,
       [](const std::string& n, RunContext& ctx) -> std::unique_ptr<Algorithm> {
         if (n == "gd") return std::make_unique<GradientDescent>(ctx, false);
         if (n == "sgd") return std::make_unique<GradientDescent>(ctx, true);
         return nullptr;
       }},
      {"fedavg, fedprox, scaffold, feddyn, fedspeed, fedspeed-sim", add_federated_options,
       make_federated_algorithm},
      {"dadao, gossip", add_gossip_options,
       [](const std::string& n, RunContext& ctx) { return make_gossip_method(n, ctx.config, ctx); }},
  };
  return kFamilies;
}

}  // namespace

void add_method_options(po::options_description& d) {
  for (const auto& f : families()) f.add_options(d);
}

std::unique_ptr<Algorithm> make_algorithm(const Config& config, RunContext& ctx) {
  const auto name = config.get("algorithm");
  std::string known;
  for (const auto& f : families()) {
    if (auto a = f.make(name, ctx)) return a;
    known += (known.empty() ? "" : ", ") + std::string(f.names);
  }
  throw ConfigError("algorithm", "unknown method '" + name + "' (known: " + known + ")");
}

std::unique_ptr<Algorithm> make_algorithm(RunContext& ctx) { return make_algorithm(ctx.config, ctx); }

}  // namespace distopt
