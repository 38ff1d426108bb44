// custom_compressor: a user compressor (block_top_k.hpp) registered in the compressor registry and
// used on the gradient uplink of distributed gradient descent with EF21 error feedback, from C++.
// `mpirun -np 2 custom_compressor` prints the compressor's δ and message size, the EF21 step, the
// final ‖∇f‖², and the uplink bytes per worker: expected from the message format (EF21 sends g⁰
// dense, d·8 bytes, then one blocktopk message per round) and counted by the communicator. It
// exits with 1 if any worker's count differs from the formula or ‖∇f‖² did not drop below 1e-4.
#include <cstdio>

#include "block_top_k.hpp"
#include "distopt/comm/communicator.hpp"
#include "distopt/comm/environment.hpp"
#include "distopt/data/load.hpp"
#include "distopt/dataparallel/gradient_descent.hpp"
#include "distopt/method/agent_weights.hpp"
#include "distopt/method/trainer.hpp"
#include "distopt/model/objective_registry.hpp"

int main(int argc, char** argv) {
  distopt::Environment env(argc, argv);
  auto comm = distopt::Communicator::world();
  user::register_block_top_k();

  distopt::DataSpec spec;
  spec.data = "synthetic:logistic:n=4000,dim=50";
  const distopt::Index workers = 4;
  const distopt::Placement placement(workers, comm.size(), comm.rank());
  const distopt::LocalData data = distopt::load_data(spec, placement, comm);
  distopt::ObjectiveOptions model;  // logistic
  model.reg.l2 = 1e-3;
  auto objective = distopt::make_objective(model, data.n_features, data.n_classes, data.task);
  const auto weights = distopt::agent_weights(data, distopt::Weighting::kSamples);
  distopt::RunContext ctx{comm,   *objective, data, placement, 1, distopt::Reduction::kAllreduce,
                          weights};

  distopt::GradientDescentOptions options;
  options.uplink.compressor = "blocktopk:5,2";  // 2 of the 10 blocks of 5 coordinates
  options.uplink.feedback = "ef21";
  options.lr.theory = true;  // EF21's step from δ and the workers' L_i

  distopt::GradientDescent gd(ctx, options);
  const double step = distopt::resolve_step_size(ctx, options.lr, options.uplink);  // for printing

  distopt::TrainerOptions trainer_options;
  trainer_options.rounds = 300;
  trainer_options.eval_every = 100;
  distopt::Trainer trainer(ctx, gd, trainer_options);
  const distopt::Summary summary = trainer.run();

  // What the message format implies, from the compressor itself.
  const auto codec = distopt::make_compressor(options.uplink.compressor, objective->dim(),
                                              options.uplink.precision);
  const auto d = static_cast<std::uint64_t>(objective->dim());
  const auto rounds = static_cast<std::uint64_t>(summary.rounds_done);
  const std::uint64_t expected = d * 8 + (rounds - 1) * codec->message_bytes();
  // What the communicator counted, worker by worker.
  int wrong = 0;
  std::uint64_t counted = 0;
  for (distopt::Index a = placement.local_first(); a < placement.end(comm.rank()); ++a) {
    const std::uint64_t up = comm.traffic().agent(a).bytes_up;
    if (up != expected) ++wrong;
    if (a == 0) counted = up;
  }
  wrong = comm.allreduce_sum(wrong);
  const double grad_norm_sq = summary.final_row.get("grad_norm_sq");
  if (comm.is_root()) {
    std::printf("compressor %s: d = %lu, delta = %.2f, message %zu bytes (dense %lu)\n",
                codec->name().c_str(), static_cast<unsigned long>(d), codec->delta(),
                codec->message_bytes(), static_cast<unsigned long>(d * 8));
    std::printf(
        "gd + ef21, %ld workers on %d ranks, step %.4f (theory), %lu rounds: grad_norm_sq %.3e "
        "(initial %.3e)\n",
        static_cast<long>(workers), comm.size(), step, static_cast<unsigned long>(rounds),
        grad_norm_sq, trainer.log().column("grad_norm_sq").front());
    std::printf("uplink bytes per worker: expected %lu = %lu*8 + %lu*%zu, counted %lu (worker 0)\n",
                static_cast<unsigned long>(expected), static_cast<unsigned long>(d),
                static_cast<unsigned long>(rounds - 1), codec->message_bytes(),
                static_cast<unsigned long>(counted));
    std::printf("workers whose count differs: %d; total bytes_up %.0f = %ld x %lu\n", wrong,
                summary.final_row.get("bytes_up"), static_cast<long>(workers),
                static_cast<unsigned long>(expected));
  }
  const bool total_ok =
      summary.final_row.get("bytes_up") == static_cast<double>(workers * expected);
  return wrong == 0 && total_ok && grad_norm_sq < 1e-4 ? 0 : 1;
}
