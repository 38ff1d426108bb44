#include "distopt/run/federated_config.hpp"

#include "distopt/core/error.hpp"
#include "distopt/federated/client_sampler.hpp"
#include "distopt/federated/fedavg.hpp"
#include "distopt/federated/scaffold.hpp"
#include "distopt/run/compress_config.hpp"

namespace distopt {

namespace {

/// --clients-per-round and --participation into `o`, refusing both (--participation keeps its
/// default 1 unless given, so "given and not 1" is "not 1").
void read_sampling(const Config& c, FederatedOptions& o) {
  o.sampling = c.get_choice("sampling", {"fixed", "bernoulli"}) == "bernoulli"
                   ? SamplingScheme::kBernoulli
                   : SamplingScheme::kFixed;
  o.clients_per_round = c.get_int_at_least("clients-per-round", 0);
  if (o.sampling == SamplingScheme::kBernoulli && o.clients_per_round > 0) {
    throw ConfigError("sampling",
                      "bernoulli draws each client with probability --participation; "
                      "--clients-per-round is for --sampling fixed");
  }
  o.participation = o.clients_per_round > 0 ? c.get_double("participation")
                                            : c.get_in("participation", 0.0, 1.0, /*lo_open=*/true);
  ClientSampler::validate_per_round(o.participation, o.clients_per_round);
}

}  // namespace

void add_federated_options(po::options_description& d) {
  add_option(d, "participation", "1",
             "federated: fraction q of clients active per round, m = max(1, round(q N))");
  add_option(d, "clients-per-round", "0",
             "federated: active clients per round (0: use --participation)");
  add_option(d, "sampling", "fixed",
             "federated client sampling: fixed (m clients without replacement) | bernoulli "
             "(each client with probability --participation, redrawn if none; FL-Simulator)");
  add_option(d, "clip-norm", "0",
             "federated: clip each local step's direction to this norm as torch's "
             "clip_grad_norm_ (0: off; FL-Simulator uses 10)");
  add_option(d, "weight-decay", "0",
             "federated: PyTorch SGD weight decay, w*y added to each local step (not to the loss; "
             "FL-Simulator's default 1e-3)");
  add_option(d, "client-speed", "constant",
             "federated: client speeds in local steps per unit of simulated time: constant[:V] | "
             "exponential:MEAN | lognormal:MU,SIGMA | file:PATH (metric virtual_time; fedbuff and "
             "fedfix schedule arrivals by it)");
  add_option(d, "local-steps", "10", "federated: local minibatch steps K per round");
  add_option(d, "local-epochs", "0",
             "federated: local passes over the client's shard instead of --local-steps (0: off)");
  add_option(d, "lr-decay", "1", "federated: local step size multiplied by this every round");
  add_option(d, "lr-global", "1", "federated: server step size eta_g");
  add_option(d, "server-opt", "sgd",
             "federated server optimiser: sgd | momentum | adagrad | adam | yogi");
  add_option(d, "server-momentum", "0.9", "server-opt momentum: beta in m = beta m + Delta");
  add_option(d, "server-beta1", "0.9", "server-opt adagrad/adam/yogi: first-moment decay");
  add_option(d, "server-beta2", "0.99", "server-opt adam/yogi: second-moment decay");
  add_option(d, "server-tau", "1e-3",
             "server-opt adagrad/adam/yogi: adaptivity tau (v starts at tau^2)");
  add_option(d, "prox-mu", "0.01", "fedprox: proximal coefficient mu");
  add_option(d, "feddyn-alpha", "0.1", "feddyn: dynamic regulariser alpha");
  add_option(d, "fedspeed-lambda", "10",
             "fedspeed: prox-correction lambda (prox term (1/lambda)(y - x))");
  add_option(d, "fedspeed-rho", "0.1", "fedspeed: perturbation radius rho");
  add_option(d, "fedspeed-alpha", "1",
             "fedspeed: merge weight alpha of the perturbed gradient (default 1 with "
             "--fedspeed-server all, 0.9 with active)");
  add_option(d, "fedspeed-server", "all",
             "fedspeed: average the correction over all clients (the authors' code, which ran "
             "the paper's experiments) | active (the printed Algorithm 1)");
  add_option(d, "fedspeed-normalize", "true",
             "fedspeed: perturb along g1/||g1|| (false: along g1)");
}

LocalSchedule local_schedule_from(const Config& c) {
  LocalSchedule s;
  s.local_steps = c.get_int_at_least("local-steps", 1);
  s.local_epochs = c.get_int_at_least("local-epochs", 0);
  s.batch_size = c.get_int_at_least("batch-size", 0);
  s.clip_norm = c.get_nonnegative("clip-norm");
  s.weight_decay = c.get_nonnegative("weight-decay");
  if (s.local_epochs > 0 && c.given("local-steps")) {
    throw ConfigError("local-epochs", "give either --local-steps or --local-epochs, not both");
  }
  return s;
}

ServerOptimizerOptions server_optimizer_options_from(const Config& c) {
  ServerOptimizerOptions o;
  const auto kind = c.get_choice("server-opt", {"sgd", "momentum", "adagrad", "adam", "yogi"});
  if (kind == "sgd") o.kind = ServerOptKind::kSgd;
  if (kind == "momentum") o.kind = ServerOptKind::kMomentum;
  if (kind == "adagrad") o.kind = ServerOptKind::kAdagrad;
  if (kind == "adam") o.kind = ServerOptKind::kAdam;
  if (kind == "yogi") o.kind = ServerOptKind::kYogi;
  o.lr = c.get_positive("lr-global");
  o.momentum = c.get_in("server-momentum", 0.0, 1.0, false, /*hi_open=*/true);
  o.beta1 = c.get_in("server-beta1", 0.0, 1.0, false, true);
  o.beta2 = c.get_in("server-beta2", 0.0, 1.0, false, true);
  o.tau = c.get_positive("server-tau");
  return o;
}

Index clients_per_round_from(const Config& c, Index n_clients) {
  FederatedOptions o;
  read_sampling(c, o);
  return ClientSampler::per_round(o.participation, o.clients_per_round, n_clients);
}

FederatedOptions federated_options_from(const Config& c) {
  // In the order the options used to be read, so that the first bad one is reported.
  FederatedOptions o;
  o.schedule = local_schedule_from(c);
  read_sampling(c, o);
  o.server = server_optimizer_options_from(c);
  o.lr = c.get_positive("lr");
  o.lr_decay = c.get_in("lr-decay", 0.0, 1.0, /*lo_open=*/true);
  o.uplink = uplink_options_from(c);
  o.downlink = downlink_options_from(c);
  o.speed = ClientSpeedOptions::parse(c.get("client-speed"));
  return o;
}

FedProxOptions fedprox_options_from(const Config& c) {
  FedProxOptions o;
  o.federated = federated_options_from(c);
  o.mu = c.get_nonnegative("prox-mu");
  return o;
}

FedDynOptions feddyn_options_from(const Config& c) {
  FedDynOptions o;
  o.federated = federated_options_from(c);
  o.alpha = c.get_positive("feddyn-alpha");
  return o;
}

FedSpeedOptions fedspeed_options_from(const Config& c) {
  FedSpeedOptions o;
  o.federated = federated_options_from(c);
  o.lambda = c.get_positive("fedspeed-lambda");
  o.rho = c.get_nonnegative("fedspeed-rho");
  const double alpha = c.get_in("fedspeed-alpha", 0.0, 1.0);
  if (c.given("fedspeed-alpha")) o.alpha = alpha;
  o.normalize = c.get_bool("fedspeed-normalize");
  o.server = c.get_choice("fedspeed-server", {"all", "active"}) == "all" ? FedSpeedServer::kAll
                                                                         : FedSpeedServer::kActive;
  return o;
}

FedSpeedOptions fedspeed_sim_options_from(const Config& c) {
  FedSpeedOptions o = fedspeed_options_from(c);
  if (o.server != FedSpeedServer::kAll) {
    throw ConfigError("fedspeed-server",
                      "fedspeed-sim is the alias of --algorithm fedspeed --fedspeed-server all "
                      "(use --algorithm fedspeed --fedspeed-server active for Algorithm 1)");
  }
  return o;
}

}  // namespace distopt
