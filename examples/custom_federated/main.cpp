// custom_federated: a user federated method (fednova.hpp, FedNova on FederatedRound) run from C++
// next to the built-in FedAvg with the same options, on FedProx's Synthetic(1,1) clients, whose
// sizes differ by orders of magnitude, so that one local epoch means very different τ_i.
// `mpirun -np 2 custom_federated` prints the spread of τ_i and both methods' final loss and
// ‖∇f‖²; it exits with 1 unless FedNova's ‖∇f‖² ends below FedAvg's (FedAvg is pulled towards
// the stationary point of its τ-weighted objective, FedNova towards that of f).
#include <algorithm>
#include <cstdio>
#include <memory>

#include "distopt/comm/communicator.hpp"
#include "distopt/comm/environment.hpp"
#include "distopt/data/load.hpp"
#include "distopt/federated/fedavg.hpp"
#include "distopt/method/agent_weights.hpp"
#include "distopt/method/trainer.hpp"
#include "distopt/model/objective_registry.hpp"
#include "fednova.hpp"

int main(int argc, char** argv) {
  distopt::Environment env(argc, argv);
  auto comm = distopt::Communicator::world();

  distopt::DataSpec spec;
  spec.data = "synthetic:fedprox:clients=10";
  spec.partition = "natural";  // each generated client is an agent
  const distopt::Placement placement(10, comm.size(), comm.rank());
  const distopt::LocalData data = distopt::load_data(spec, placement, comm);
  distopt::ObjectiveOptions model;
  model.problem = "softmax";
  auto objective = distopt::make_objective(model, data.n_features, data.n_classes, data.task);
  const auto weights = distopt::agent_weights(data, distopt::Weighting::kSamples);
  distopt::RunContext ctx{comm,   *objective, data, placement, 1, distopt::Reduction::kAllreduce,
                          weights};

  distopt::FederatedOptions options;
  options.schedule.local_epochs = 1;  // τ_i = ⌈n_i / 10⌉ local steps
  options.schedule.batch_size = 10;
  options.lr = 0.02;
  distopt::TrainerOptions trainer_options;
  trainer_options.rounds = 400;
  trainer_options.eval_every = 100;

  const distopt::LocalSolver schedule(options.schedule, 1);
  const auto [lo, hi] = std::minmax_element(data.agent_rows.begin(), data.agent_rows.end());
  if (comm.is_root()) {
    std::printf("10 clients, %ld to %ld rows: tau_i from %ld to %ld local steps\n",
                static_cast<long>(*lo), static_cast<long>(*hi),
                static_cast<long>(schedule.steps_for(*lo)),
                static_cast<long>(schedule.steps_for(*hi)));
  }
  double g[2];
  for (int k = 0; k < 2; ++k) {
    std::unique_ptr<distopt::FederatedRound> method;
    if (k == 0) method = std::make_unique<distopt::FedAvg>(ctx, options);
    if (k == 1) method = std::make_unique<user::FedNova>(ctx, options);
    distopt::Trainer trainer(ctx, *method, trainer_options);
    const auto row = trainer.run().final_row;
    g[k] = row.get("grad_norm_sq");
    if (comm.is_root()) {
      std::printf("%-8s %ld rounds: loss %.4f  grad_norm_sq %.3e  test_accuracy %.4f\n",
                  method->name().c_str(), static_cast<long>(trainer_options.rounds),
                  row.get("loss"), g[k], row.get("test_accuracy"));
    }
  }
  if (comm.is_root())
    std::printf("fednova below fedavg in grad_norm_sq: %s\n", g[1] < g[0] ? "yes" : "no");
  return g[1] < g[0] ? 0 : 1;
}
