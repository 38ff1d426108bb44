// minimal_gd: the smallest complete program. Reads a dataset file, runs distributed gradient
// descent over MPI with typed options, writes a result file.
//   mpirun -np 2 minimal_gd [DATA.h5 [RESULT.h5]]
// Without DATA.h5 it first writes one (minimal_gd_data.h5: 2000 rows of planted logistic data,
// like `distopt data --synthetic logistic:n=2000,dim=10 -o minimal_gd_data.h5`).
// The result file (default minimal_gd.h5) is what `distopt info` and the plotting scripts read.
// Exits with 1 unless ‖∇f‖² ends below 1e-10.
#include <cstdio>
#include <map>
#include <string>

#include "distopt/comm/communicator.hpp"
#include "distopt/comm/environment.hpp"
#include "distopt/data/dataset_file.hpp"
#include "distopt/data/load.hpp"
#include "distopt/data/synthetic.hpp"
#include "distopt/dataparallel/gradient_descent.hpp"
#include "distopt/io/hdf5.hpp"
#include "distopt/method/agent_weights.hpp"
#include "distopt/method/trainer.hpp"
#include "distopt/model/objective_registry.hpp"
#include "distopt/run/result_file.hpp"

int main(int argc, char** argv) {
  distopt::Environment env(argc, argv);
  auto comm = distopt::Communicator::world();
  std::string data_path = argc > 1 ? argv[1] : "minimal_gd_data.h5";
  const std::string output = argc > 2 ? argv[2] : "minimal_gd.h5";
  if (argc <= 1 && comm.is_root()) {
    const auto gen = distopt::make_synthetic("synthetic:logistic:n=2000,dim=10", {});
    distopt::write_dataset_file(data_path, gen->generate_all(distopt::Split::kTrain),
                                gen->generate_all(distopt::Split::kTest), {});
  }
  comm.barrier();

  // Data over 4 agents, the model, the agents' weights p_a = n_a / n.
  distopt::DataSpec spec;
  spec.data = data_path;
  const distopt::Placement placement(4, comm.size(), comm.rank());
  const distopt::LocalData data = distopt::load_data(spec, placement, comm);
  auto objective = distopt::make_objective(distopt::ObjectiveOptions{}, data.n_features,
                                           data.n_classes, data.task);  // logistic
  const auto weights = distopt::agent_weights(data, distopt::Weighting::kSamples);
  distopt::RunContext ctx{comm,   *objective, data, placement, 1, distopt::Reduction::kAllreduce,
                          weights};

  distopt::GradientDescentOptions options;
  options.lr.value = 4.0;
  distopt::GradientDescent gd(ctx, options);
  distopt::TrainerOptions trainer_options;
  trainer_options.rounds = 200;
  trainer_options.eval_every = 50;
  distopt::Trainer trainer(ctx, gd, trainer_options);
  const distopt::Summary summary = trainer.run();

  // The result file, written by rank 0, with what this program ran with as /config.
  const std::map<std::string, std::string> ran_with = {{"algorithm", "gd"}, {"problem", "logistic"},
                                                       {"data", data_path}, {"agents", "4"},
                                                       {"lr", "4"},         {"rounds", "200"}};
  const std::map<std::string, distopt::RowMatrix> no_extras;
  if (comm.is_root()) {
    const distopt::MetricLog& log = trainer.log();
    const distopt::Vector& x = gd.model();
    distopt::write_result_file(output, {&ran_with, comm.size(), &log, &x, &no_extras, &summary});
    const auto& row = summary.final_row;
    std::printf("%s: %ld training rows, %ld test rows, %ld features\n", data_path.c_str(),
                static_cast<long>(data.total_train), static_cast<long>(data.total_test),
                static_cast<long>(data.n_features));
    std::printf(
        "gd, 4 agents on %d ranks, %ld rounds: loss %.6f, grad_norm_sq %.3e, test_accuracy %.4f\n",
        comm.size(), static_cast<long>(summary.rounds_done), row.get("loss"),
        row.get("grad_norm_sq"), row.get("test_accuracy"));
    // Read back what was written.
    const auto file = distopt::h5::File::open(output);
    std::printf("wrote %s: /model/x has %zu values, /metrics/loss %zu evaluations\n",
                output.c_str(), file.read_doubles("model/x").size(),
                file.read_doubles("metrics/loss").size());
  }
  return summary.final_row.get("grad_norm_sq") < 1e-10 ? 0 : 1;
}
