// Simulation speed of a federated round (docs/results-federated.md): Fashion-MNIST, 100 clients
// (Dirichlet 0.3), 10% participation, batch 50, --local-steps K per active client, MLP 784-200-10
// (or --problem), float64. Each rank simulates its clients one after the other; the run reports
//   - seconds per round (max over ranks, no evaluation), gradient evaluations and samples per
//     second per core (samples = gradient evaluations × batch rows, over the whole job / ranks);
//   - the MLP training step's rate in GFLOP/s per core (Mlp::train_flops per gradient) against
//     plain Eigen GEMMs of the same five shapes timed in the same process right after
//     (H = X W1ᵀ, Z = H W2ᵀ, G2 = dZᵀ H, dH = dZ W2, G1 = dHᵀ X), so the ratio is taken under the
//     same machine load.
// Prints one Markdown table row on rank 0.
//
// usage: mpirun -np P bench_federated [--algorithm fedavg] [--rounds 20] [--local-steps 10]
//                                     [--problem mlp:200] [--partition dirichlet:0.3] [--agents 100]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <string>

#include "distopt/comm/communicator.hpp"
#include "distopt/comm/environment.hpp"
#include "distopt/data/load.hpp"
#include "distopt/method/algorithm.hpp"
#include "distopt/model/mlp.hpp"
#include "distopt/model/objective.hpp"
#include "distopt/run/method_registry.hpp"
#include "distopt/run/options.hpp"

using namespace distopt;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  Environment env(argc, argv);
  auto comm = Communicator::world();
  std::map<std::string, std::string> kv = {{"algorithm", "fedavg"},    {"rounds", "20"},
                                           {"local-steps", "10"},      {"problem", "mlp:200"},
                                           {"partition", "dirichlet:0.3"}, {"agents", "100"},
                                           {"participation", "0.1"},   {"batch-size", "50"},
                                           {"lr", "0.05"},             {"data", "fmnist"}};
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k.rfind("--", 0) == 0) k = k.substr(2);
    kv[k] = argv[i + 1];
  }
  const Config cfg = Config::from_map(train_options(), kv);
  const Index agents = cfg.get_int("agents");
  const Placement pl(agents, comm.size(), comm.rank());
  DataSpec spec;
  spec.data = cfg.get("data");
  spec.partition = cfg.get("partition");
  spec.seed = cfg.get_uint("seed");
  const LocalData data = load_data(spec, pl, comm);
  auto obj = make_objective(cfg.get("problem"), data.n_features, data.n_classes, data.task, {});
  std::vector<double> w;
  for (Index a = 0; a < agents; ++a) w.push_back(data.weight(a));
  RunContext ctx{comm, *obj, data, pl, cfg.get_uint("seed"), Reduction::kAllreduce, w};
  auto algo = make_algorithm(cfg, ctx);
  algo->initialize(obj->initial_point(ctx.seed));

  const std::int64_t rounds = cfg.get_int("rounds");
  algo->step(1);  // warm-up: buffers sized, pages touched
  const auto e0 = algo->local_grad_evals();
  comm.barrier();
  const auto t0 = Clock::now();
  for (std::int64_t t = 2; t <= rounds + 1; ++t) algo->step(t);
  comm.barrier();
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  const auto evals = comm.allreduce_sum(static_cast<std::uint64_t>(algo->local_grad_evals() - e0));
  const double batch = static_cast<double>(cfg.get_int("batch-size"));
  const double p = static_cast<double>(comm.size());
  const double samples_per_core = static_cast<double>(evals) * batch / secs / p;

  // Reference GEMMs at the MLP's shapes, same process, right after.
  double step_gflops = 0, gemm_gflops = 0;
  if (const auto* mlp = dynamic_cast<const Mlp*>(obj.get())) {
    const double flops = mlp->train_flops(static_cast<Index>(batch));
    step_gflops = static_cast<double>(evals) * flops / secs / p / 1e9;
    const Index B = static_cast<Index>(batch), d = data.n_features, C = data.n_classes;
    const auto hidden = std::stol(split(cfg.get("problem"), ':').at(1));
    const Index h = static_cast<Index>(hidden);
    Matrix X = Matrix::Random(B, d), W1 = Matrix::Random(h, d), W2 = Matrix::Random(C, h);
    Matrix H(B, h), Z(B, C), G2(C, h), dH(B, h), G1(h, d);
    double best = 1e30, sink = 0;
    for (int rep = 0; rep < 7; ++rep) {
      const int n = 200;
      const auto g0 = Clock::now();
      for (int i = 0; i < n; ++i) {
        H.noalias() = X * W1.transpose();
        Z.noalias() = H * W2.transpose();
        G2.noalias() = Z.transpose() * H;
        dH.noalias() = Z * W2;
        G1.noalias() = dH.transpose() * X;
        sink += G1(0, 0) + G2(0, 0);
      }
      best = std::min(best, std::chrono::duration<double>(Clock::now() - g0).count() / n);
    }
    // The reference is the best repetition on each rank; the job's reference is the mean over ranks.
    gemm_gflops = comm.allreduce_sum(flops / best / 1e9) / p;
    if (sink == 12345.678) std::printf(" ");
  }
  if (comm.is_root()) {
    std::printf("| %d | %s | %s | %ld | %.3f | %.0f | %.0f | %.2f | %.2f | %.0f%% |\n", comm.size(),
                cfg.get("algorithm").c_str(), cfg.get("problem").c_str(),
                static_cast<long>(cfg.get_int("local-steps")), secs / static_cast<double>(rounds),
                static_cast<double>(evals) / secs / p, samples_per_core, step_gflops, gemm_gflops,
                gemm_gflops > 0 ? 100.0 * step_gflops / gemm_gflops : 0.0);
  }
  return 0;
}
