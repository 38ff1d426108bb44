// custom_objective: a user objective (user_logistic.hpp) used two ways by one program.
//
//   mpirun -np 2 custom_objective            C++: FedSpeed from FedSpeedOptions (no Config) on
//                                            user-logistic, then the same run with the built-in
//                                            logistic; exits 1 unless the final models are
//                                            bitwise equal and the HVP passes a finite-difference
//                                            check.
//   mpirun -np 2 custom_objective train --problem user-logistic --algorithm fedspeed ...
//                                            the whole distopt command line (every option, the
//                                            result files and checkpoints), with user-logistic
//                                            registered; also `data`, `info`, `--version`.
//   custom_objective compare A.h5 B.h5       exits 0 iff /model/x of the two result files is
//                                            bitwise equal (scripts/test_install.sh uses it).
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "distopt/comm/communicator.hpp"
#include "distopt/comm/environment.hpp"
#include "distopt/data/load.hpp"
#include "distopt/federated/fedspeed.hpp"
#include "distopt/io/hdf5.hpp"
#include "distopt/method/agent_weights.hpp"
#include "distopt/method/trainer.hpp"
#include "distopt/model/gradient_check.hpp"
#include "distopt/run/cli_main.hpp"
#include "user_logistic.hpp"

namespace {

/// Prints every evaluation on rank 0 (methods never print; the Trainer calls its callbacks).
class Printer : public distopt::TrainerCallback {
 public:
  explicit Printer(bool root) : root_(root) {}
  void on_evaluation(const distopt::MetricRow& row) override {
    if (!root_) return;
    std::printf("  round %3.0f  loss %.6f  grad_norm_sq %.3e  test_accuracy %.4f\n",
                row.get("round"), row.get("loss"), row.get("grad_norm_sq"),
                row.get("test_accuracy"));
  }

 private:
  bool root_;
};

/// FedSpeed on `problem` over 8 clients; returns the final model (identical on every rank).
distopt::Vector run_fedspeed(distopt::Communicator& comm, const distopt::LocalData& data,
                             const distopt::Placement& placement, const std::string& problem,
                             bool print, distopt::Summary* summary) {
  distopt::ObjectiveOptions model;
  model.problem = problem;
  auto objective = distopt::make_objective(model, data.n_features, data.n_classes, data.task);
  const auto weights = distopt::agent_weights(data, distopt::Weighting::kSamples);
  distopt::RunContext ctx{
      comm, *objective, data, placement, /*seed=*/1, distopt::Reduction::kAllreduce, weights};

  distopt::FedSpeedOptions options;  // typed options, defaults documented in fedspeed.hpp
  options.federated.participation = 0.5;
  options.federated.schedule.local_steps = 5;
  options.federated.schedule.batch_size = 32;
  options.federated.lr = 0.5;
  options.lambda = 10.0;
  options.rho = 0.05;
  distopt::FedSpeed method(ctx, options);

  distopt::TrainerOptions trainer_options;
  trainer_options.rounds = 60;
  trainer_options.eval_every = 20;
  distopt::Trainer trainer(ctx, method, trainer_options);
  Printer printer(comm.is_root() && print);
  trainer.add_callback(&printer);
  *summary = trainer.run();
  return method.model();
}

int compare(const char* a, const char* b) try {
  const auto xa = distopt::h5::File::open(a).read_doubles("model/x");
  const auto xb = distopt::h5::File::open(b).read_doubles("model/x");
  const bool same =
      xa.size() == xb.size() && std::memcmp(xa.data(), xb.data(), xa.size() * sizeof(double)) == 0;
  std::printf("/model/x: %zu and %zu values, %s\n", xa.size(), xb.size(),
              same ? "bitwise equal" : "DIFFERENT");
  return same ? 0 : 1;
} catch (const std::exception& e) {
  std::fprintf(stderr, "compare: %s\n", e.what());
  return 2;
}

int demo(int argc, char** argv) {
  distopt::Environment env(argc, argv);
  auto comm = distopt::Communicator::world();
  const bool root = comm.is_root();

  distopt::DataSpec spec;
  spec.data = "synthetic:logistic:n=4000,dim=20";
  spec.seed = 1;
  const distopt::Placement placement(8, comm.size(), comm.rank());
  const distopt::LocalData data = distopt::load_data(spec, placement, comm);

  // The HVP against finite differences of the gradient, on this rank's first client.
  distopt::ObjectiveOptions model;
  model.problem = "user-logistic";
  auto f = distopt::make_objective(model, data.n_features, data.n_classes, data.task);
  const distopt::Vector x = distopt::Vector::Constant(f->dim(), 0.1);
  const auto check = distopt::check_gradient(*f, x, data.shard(placement.local_first()));
  const double worst = comm.allreduce_max(std::max(check.grad_rel_error, check.hvp_rel_error));
  if (root) {
    std::printf(
        "user-logistic: d = %ld, has_hvp = %s, finite-difference check (worst rel. error) %.1e\n",
        static_cast<long>(f->dim()), f->has_hvp() ? "yes" : "no", worst);
    std::printf("fedspeed on user-logistic, 8 clients on %d ranks:\n", comm.size());
  }

  distopt::Summary mine, builtin;
  const distopt::Vector x_user = run_fedspeed(comm, data, placement, "user-logistic", true, &mine);
  const distopt::Vector x_builtin =
      run_fedspeed(comm, data, placement, "logistic", false, &builtin);
  const bool same =
      x_user.size() == x_builtin.size() &&
      std::memcmp(x_user.data(), x_builtin.data(), x_user.size() * sizeof(double)) == 0;
  if (root) {
    const auto& row = mine.final_row;
    std::printf("reached after %ld rounds: loss %.6f, grad_norm_sq %.3e, test_accuracy %.4f\n",
                static_cast<long>(mine.rounds_done), row.get("loss"), row.get("grad_norm_sq"),
                row.get("test_accuracy"));
    std::printf("final model bitwise equal to --problem logistic: %s\n", same ? "yes" : "NO");
  }
  return same && worst < 1e-5 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "compare" && argc == 4) return compare(argv[2], argv[3]);
  user::register_user_logistic();  // before anything parses --problem
  if (mode.empty()) return demo(argc, argv);
  // Anything else is the distopt command line (train, data, info, --version, --help).
  return distopt::cli_main(argc, argv, "custom_objective");
}
