#include "distopt/run/options.hpp"

#include <string>

#include "distopt/data/partition.hpp"
#include "distopt/data/source.hpp"
#include "distopt/data/synthetic.hpp"
#include "distopt/model/objective_registry.hpp"
#include "distopt/run/method_registry.hpp"

namespace distopt {

void add_common_options(po::options_description& d) {
  add_option(d, "config", "INI file with options (command-line options win)");
  add_option(d, "algorithm", "gd", ("method: " + method_registry().choices()).c_str());
  // Generated from the registries, so entries user code added are listed too.
  const std::string problem_help = "model: " + objective_registry().choices();
  const std::string data_help = "dataset: " + source_registry().choices() +
                                "; synthetic kinds: " + synthetic_registry().choices() +
                                "; fmnist classes=A,B,... keeps those classes, relabelled 0..C-1 "
                                "in the order given (two classes: binary, first -1, second +1)";
  const std::string partition_help = "split over agents: " + partition_registry().choices();
  add_option(d, "problem", ObjectiveOptions{}.problem.c_str(), problem_help.c_str());
  add_option(d, "data", "synthetic:fedprox", data_help.c_str());
  add_option(d, "partition", "iid", partition_help.c_str());
  add_option(d, "test-fraction", "0.2", "share of rows held out as test set when the data has none");
  add_option(d, "max-memory", "auto",
             "bound of sizes read from data files per process: bytes with K/M/G/T suffix "
             "(powers of 1024), auto = 3/4 of MemTotal");
  add_option(d, "precision", "auto",
             "dense data and model compute: auto (float32 for mlp, float64 for the convex "
             "models) | float32 | float64; parameters, optimiser state and reductions stay "
             "float64");
  add_option(d, "agents", "10", "logical agents: workers, clients, gossip nodes");
  add_option(d, "rounds", "100", "rounds / iterations (event-driven methods: units of virtual time)");
  add_option(d, "lr", "0.1", "step size (local step size for federated methods); 'theory' where supported");
  add_option(d, "batch-size", "0", "minibatch rows per agent step (0 = full batch)");
  add_option(d, "l2", "0", "L2 regularisation (l2/2)||x||^2");
  add_option(d, "nonconvex-reg", "0", "nonconvex regulariser lambda * sum x_j^2/(1+x_j^2)");
  add_option(d, "weighting", "samples", "agent weights p_a in f = sum p_a f_a: samples | uniform");
  add_option(d, "reduction", "allreduce",
             "sum over agents: allreduce (fast) | ordered (bitwise identical at any rank count)");
  add_option(d, "seed", "1", "seed of every random stream");
  add_option(d, "eval-every", "1", "evaluate every N rounds (and after the last)");
  add_option(d, "target-metric", "", "stop when reached, e.g. grad_norm_sq<1e-8, test_accuracy>0.85");
  add_option(d, "output", "",
             "result file, 'none' for no file (default "
             "results/<algorithm>-<YYYYmmdd-HHMMSS>-s<seed>-p<pid>.h5, never an existing name)");
  d.add_options()("overwrite",
                  po::value<std::string>()->default_value("false")->implicit_value("true"),
                  "replace an existing --output or --checkpoint file (otherwise refused)");
  add_option(d, "log-format", "table", "progress on stdout: table | json | none");
  add_option(d, "progress", "auto",
             "progress line between table rows: auto (only when stdout is a terminal) | never | "
             "always");
  add_option(d, "show", "",
             "extra table columns, comma-separated metric names (e.g. consensus,bytes_mpi)");
  add_option(d, "checkpoint-every", "0", "write a checkpoint every N rounds (0 = never)");
  add_option(d, "checkpoint", "", "checkpoint file (default <output without .h5>.ckpt.h5)");
  add_option(d, "resume", "", "continue from this checkpoint file");
  add_option(d, "init", "", "initial model: /model/x of a result file (warm start)");
}

po::options_description train_options() {
  po::options_description d("distopt train options");
  d.add_options()("help,h", "show the options");
  // A flag of the command, not an option of the run: never recorded in result files.
  d.add_options()("print-config",
                  "print the resolved options (INI lines, usable as --config) and the MPI world "
                  "size, then exit without training");
  add_common_options(d);
  add_method_options(d);
  return d;
}

}  // namespace distopt
