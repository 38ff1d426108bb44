#include "distopt/run/experiment.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <sstream>

#include "distopt/core/error.hpp"
#include "distopt/core/version.hpp"
#include "distopt/data/load.hpp"
#include "distopt/io/hdf5.hpp"
#include "distopt/method/agent_weights.hpp"
#include "distopt/method/algorithm.hpp"
#include "distopt/model/precision.hpp"
#include "distopt/run/bilevel_config.hpp"
#include "distopt/run/data_config.hpp"
#include "distopt/run/file_guards.hpp"
#include "distopt/run/method_registry.hpp"
#include "distopt/run/options.hpp"
#include "distopt/run/progress.hpp"
#include "distopt/run/progress_line.hpp"
#include "distopt/run/result_file.hpp"
#include "distopt/run/trainer_config.hpp"

namespace distopt {

namespace {

/// The default result file, chosen on rank 0 and broadcast:
/// results/<algorithm>-<YYYYmmdd-HHMMSS>-s<seed>-p<pid of rank 0>.h5, with -2, -3, ... appended
/// if that name exists already. Two runs started in the same second on one machine differ in the
/// pid; a name taken anyway (another host on a shared file system) is never replaced.
std::string default_output(Communicator& comm, const std::string& algorithm, std::uint64_t seed) {
  std::string path;
  if (comm.is_root()) {
    const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    localtime_r(&now, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", &tm);
    const std::string stem = "results/" + algorithm + "-" + buf + "-s" + std::to_string(seed) +
                             "-p" + std::to_string(static_cast<long long>(::getpid()));
    path = stem + ".h5";
    std::error_code ec;
    for (int n = 2; std::filesystem::exists(path, ec); ++n)
      path = stem + "-" + std::to_string(n) + ".h5";
  }
  comm.broadcast(path);  // one name for every rank
  return path;
}

/// Refuses (on rank 0, before any work) to replace an existing file `path` named by option `key`
/// unless `allowed`; `how` says what to give instead.
void check_not_existing(const std::string& key, const std::string& path, bool allowed,
                        const std::string& how) {
  std::error_code ec;
  if (allowed || !std::filesystem::exists(path, ec)) return;
  throw ConfigError(key, path + " exists: refusing to overwrite it (" + how + ")");
}

/// Checks on rank 0 that the result file can be created, before any training.
void check_writable(const std::string& key, const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path p(path);
  std::error_code ec;
  if (p.has_parent_path()) fs::create_directories(p.parent_path(), ec);
  if (ec) {
    throw ConfigError(key,
                      "cannot create directory " + p.parent_path().string() + ": " + ec.message());
  }
  const std::string probe = path + ".probe";
  std::FILE* f = std::fopen(probe.c_str(), "w");
  if (!f) throw ConfigError(key, "cannot write to " + path + ": " + std::strerror(errno));
  std::fclose(f);
  std::remove(probe.c_str());
}

/// Options given explicitly (command line or INI file) that nothing read while the experiment
/// was built: the chosen method (with these options) ignores them. One warning line on rank 0;
/// every rank has the same Config. `config` itself is read by Config::parse, not by a getter.
void warn_ignored_options(const Communicator& comm, const Config& config) {
  std::string keys;
  std::size_t n = 0;
  for (const auto& key : config.given_but_unread()) {
    if (key == "config") continue;
    keys += (keys.empty() ? "--" : ", --") + key;
    ++n;
  }
  if (n == 0 || !comm.is_root()) return;
  std::fprintf(stderr, "distopt: warning: %s %s %s ignored by --algorithm %s\n",
               n == 1 ? "option" : "options", keys.c_str(), n == 1 ? "is" : "are",
               config.get("algorithm").c_str());
  std::fflush(stderr);
}

/// Options that may differ between a run and the one it resumes: where files go, how progress
/// is shown, and the budget/stopping rules (a resumed run is usually one given more rounds).
/// Every other resolved option changes the trajectory and must be equal. --eval-every stays in
/// the fingerprint: that every method's evaluation leaves its state untouched is not tested, and
/// a refused resume is better than a silently different trajectory.
const std::set<std::string>& resume_free_options() {
  static const std::set<std::string> keys{
      "rounds",           "time",   "events",    "target-metric", "output",   "checkpoint",
      "checkpoint-every", "resume", "overwrite", "log-format",    "progress", "show",
      "config",           "init"};
  return keys;
}

/// Refuses (ConfigError("resume")) to resume `path` when an option of its fingerprint differs.
void check_resume_fingerprint(const std::string& path,
                              const std::map<std::string, std::string>& mine) {
  auto theirs = checkpoint_fingerprint(path);
  if (theirs.empty()) return;  // written before fingerprints: nothing to compare
  // Written before --precision existed: everything was float64 then.
  if (mine.count("precision") && !theirs.count("precision")) theirs["precision"] = "float64";
  auto shown = [](const std::map<std::string, std::string>& m, const std::string& key) {
    auto it = m.find(key);
    if (it == m.end()) return std::string("no --") + key;
    return "--" + key + " " + (it->second.empty() ? std::string("''") : it->second);
  };
  std::set<std::string> keys;
  for (const auto& [k, v] : theirs) keys.insert(k);
  for (const auto& [k, v] : mine) keys.insert(k);
  for (const auto& k : keys) {
    if (resume_free_options().count(k)) continue;
    auto a = theirs.find(k);
    auto b = mine.find(k);
    if (a != theirs.end() && b != mine.end() && a->second == b->second) continue;
    throw ConfigError("resume", path + " was written with " + shown(theirs, k) + ", this run has " +
                                    shown(mine, k));
  }
}

std::string strip_h5(const std::string& path) {
  if (path.size() > 3 && path.compare(path.size() - 3, 3, ".h5") == 0) return path.substr(0, path.size() - 3);
  return path;
}

}  // namespace

void print_resolved_config(std::ostream& out, const Config& config, int world_size) {
  out << "# distopt " << version() << " (" << git_commit() << ")\n";
  out << "# world_size = " << world_size << "\n";
  for (const auto& [key, value] : config.values()) {
    // `config` would make the printed file include itself; empty values are the "not set"
    // defaults, which an INI line cannot spell.
    if (key == "config" || value.empty()) continue;
    out << key << " = " << value << "\n";
  }
  out.flush();
}

ExperimentOutcome run_experiment(Communicator& comm, const Config& cfg,
                                 const std::vector<TrainerCallback*>& callbacks) {
  ExperimentOutcome out;
  Config config = cfg;
  LocalData data;
  std::unique_ptr<Objective> objective;
  // A bilevel method (MethodFactory::owns_problem) runs on a problem built from
  // --bilevel-problem instead of --data and --problem.
  bool owns_problem = false;
  std::unique_ptr<BilevelProblem> problem;
  std::unique_ptr<BilevelRunContext> bilevel;
  TrainerOptions topt;
  Placement placement;
  std::string log_format;
  ProgressMode progress = ProgressMode::kAuto;
  std::vector<std::string> show;
  std::uint64_t seed = 1;
  Reduction reduction = Reduction::kAllreduce;

  // ---- validation and loading: every InputError is agreed across ranks ----
  comm.agree_on_errors([&] {
    seed = config.get_uint("seed");
    const Index agents = config.get_int_at_least("agents", 1);
    if (agents < comm.size()) {
      throw ConfigError("agents", "fewer agents (" + std::to_string(agents) + ") than ranks (" +
                                      std::to_string(comm.size()) + ")");
    }
    placement = Placement(agents, comm.size(), comm.rank());
    log_format = config.get_choice("log-format", {"table", "json", "none"});
    progress = progress_mode_from_string(config.get("progress"));
    show = split_names(config.get("show"));
    reduction = reduction_from_string(config.get_choice("reduction", {"allreduce", "ordered"}));
    {
      // Checked before any work, on a copy: a read of `config` counts as a use, and would hide
      // these options from the ignored-options warning when the method does not read them
      // (--batch-size with gd). Those that are used are read again where they are used.
      const Config check = config;
      check.get_choice("weighting", {"samples", "uniform"});
      check.get_nonnegative("l2");
      check.get_nonnegative("nonconvex-reg");
      check.get_int_at_least("batch-size", 0);
      check.get_in("test-fraction", 0.0, 1.0, false, true);
    }
    topt = trainer_options_from(config);
    owns_problem = method_owns_problem(config);  // ConfigError("algorithm") if unknown
    check_option_families(config, owns_problem);
    if (!owns_problem) {
      // --precision auto is resolved here, before any work, and the resolved value replaces it:
      // result files' /config and the checkpoint fingerprint record float32 or float64.
      const Config check = config;
      config.set("precision",
                 to_string(resolve_precision(check.get("precision"), check.get("problem"))));
    }
  });
  std::string output = config.has("output") ? config.get("output") : "";
  if (output.empty()) output = default_output(comm, config.get("algorithm"), seed);
  const bool checkpoint_given = !topt.checkpoint_path.empty();
  if (topt.checkpoint_path.empty()) topt.checkpoint_path = strip_h5(output) + ".ckpt.h5";
  // No silent loss of results: an existing result file or checkpoint is replaced only with
  // --overwrite, or with --resume (the resumed run continues the run that wrote them). The
  // checkpoint is checked when it will be written regularly or was named explicitly (a run also
  // writes it on SIGTERM).
  bool overwrite = false;
  // Held until the run ends (results written): a second run on the same output or checkpoint
  // fails at start instead of mixing its files with this run's.
  FileLock output_lock, checkpoint_lock;
  comm.agree_on_errors([&] {
    overwrite = config.has("overwrite") && config.get_bool("overwrite");
    const bool resuming = !topt.resume_path.empty();
    if (!comm.is_root()) return;
    // Values read from the map, not with get(): reading here must not hide an option from the
    // ignored-options warning.
    const auto& v = config.values();
    auto value = [&](const std::string& key) {
      auto it = v.find(key);
      return it == v.end() ? std::string() : it->second;
    };
    std::vector<NamedPath> inputs{
        {"config", value("config")}, {"init", value("init")}, {"resume", topt.resume_path}};
    if (!owns_problem) {
      for (const auto& f : data_spec_files(value("data"))) inputs.push_back({"data", f});
    }
    // The checkpoint is compared even when not written regularly: SIGTERM writes it too.
    std::vector<NamedPath> outputs{{"output", output == "none" ? "" : output},
                                   {"checkpoint", topt.checkpoint_path}};
    check_distinct_paths(inputs, outputs, {{"checkpoint", "resume"}});
    std::error_code ec;
    for (const auto& o : outputs) {
      if (!o.path.empty() && std::filesystem::is_directory(o.path, ec)) {
        throw ConfigError(o.key, o.path + " is a directory: --" + o.key + " names a file");
      }
    }
    if (output != "none") {
      check_writable("output", output);
      output_lock = FileLock("output", output);
      check_not_existing("output", output, overwrite || resuming,
                         "give --overwrite to replace it, or another --output");
    }
    if (topt.checkpoint_every > 0 || checkpoint_given || resuming) {
      check_writable("checkpoint", topt.checkpoint_path);
      checkpoint_lock = FileLock("checkpoint", topt.checkpoint_path);
    }
    if (topt.checkpoint_every > 0 || checkpoint_given) {
      check_not_existing("checkpoint", topt.checkpoint_path, overwrite || resuming,
                         "give --resume " + topt.checkpoint_path +
                             " to continue from it, --overwrite to replace it, or another "
                             "--checkpoint");
    }
  });

  for (const auto& [key, value] : config.values()) {
    if (!resume_free_options().count(key)) topt.fingerprint[key] = value;
  }
  // A bilevel method holds its own data and ignores --precision (always float64).
  if (owns_problem) topt.fingerprint.erase("precision");
  if (!topt.resume_path.empty()) {
    comm.agree_on_errors([&] {
      if (comm.is_root()) check_resume_fingerprint(topt.resume_path, topt.fingerprint);
    });
  }

  // --init: /model/x of a result file, of the dimension `dim` (`needs` says whose, for the error).
  auto read_init = [&](Index dim, const std::string& needs) {
    const auto init = config.get("init");
    if (init.empty()) return;
    auto f = h5::File::open(init);
    if (!f.is_array("model/x")) throw FileError(init, "no /model/x to start from");
    const auto x = f.read_doubles("model/x");
    for (std::size_t i = 0; i < x.size(); ++i) {
      if (!std::isfinite(x[i])) {
        throw FileError(init, "/model/x[" + std::to_string(i) + "] = " + std::to_string(x[i]) +
                                  " (an initial model must be finite)");
      }
    }
    if (static_cast<Index>(x.size()) != dim) {
      throw ConfigError("init", init + " holds a model of " + std::to_string(x.size()) +
                                    " values, but " + needs + " needs " + std::to_string(dim));
    }
    topt.initial_model = Eigen::Map<const Vector>(x.data(), static_cast<Index>(x.size()));
  };

  std::vector<double> weights;
  std::optional<RunContext> data_ctx;
  if (owns_problem) {
    // The problem holds its own data (each rank generates or reads its own blocks); the Trainer
    // sees an objective without data, since a bilevel method evaluates itself.
    comm.agree_on_errors([&] {
      problem = make_bilevel_problem(bilevel_problem_options_from(config), placement.agents(), seed,
                                     placement);
      check_block_sampler_options(config, *problem);
      bilevel = std::make_unique<BilevelRunContext>(comm, *problem, seed, reduction);
      read_init(problem->upper_dim(), "bilevel problem " + problem->name());
    });
  } else {
    DataSpec spec;
    comm.agree_on_errors([&] { spec = data_spec_from(config); });
    data = load_data(spec, placement, comm);  // agrees on its own errors

    comm.agree_on_errors([&] {
      objective = make_objective(objective_options_from(config), data.n_features, data.n_classes,
                                 data.task);
      read_init(objective->dim(),
                objective->name() + " on " + std::to_string(data.n_features) + " features");
    });
    weights = agent_weights(data, weighting_from_string(config.get("weighting")));
    data_ctx.emplace(RunContext{comm, *objective, data, placement, seed, reduction, weights});
  }

  RunContext& ctx = owns_problem ? bilevel->run() : *data_ctx;
  std::unique_ptr<Algorithm> algo;
  comm.agree_on_errors([&] {
    if (owns_problem) {
      algo = make_bilevel_algorithm(config, bilevel->bilevel());
    } else {
      for (std::size_t a = 0; a < weights.size(); ++a) {
        if (data.agent_rows[a] == 0) {
          throw ConfigError("partition", "agent " + std::to_string(a) + " received no rows (" +
                                             std::to_string(data.total_train) + " rows over " +
                                             std::to_string(weights.size()) + " agents)");
        }
      }
      algo = make_algorithm(config, ctx);
    }
    if (!algo->supports_checkpoints() && (topt.checkpoint_every > 0 || !topt.resume_path.empty())) {
      throw ConfigError("clock",
                        "wall-clock runs cannot be checkpointed or resumed (use --clock virtual)");
    }
  });

  warn_ignored_options(comm, config);

  // ---- training ----
  Trainer trainer(ctx, *algo, topt);
  // The progress line shares stdout with the table (and is erased before each row), so it is
  // shown when stdout is a terminal: a redirected or piped run gets the table alone.
  ProgressLine progress_line(
      stdout, comm.is_root() && log_format == "table" && ProgressLine::enabled(progress, stdout),
      topt.rounds, topt.target ? topt.target->name : "loss");
  TablePrinter table(stdout, comm.is_root() && log_format == "table", show);
  JsonLinesPrinter json(stdout, comm.is_root() && log_format == "json");
  trainer.add_callback(&progress_line);  // before the table: erases the line before a row
  trainer.add_callback(&table);
  trainer.add_callback(&json);
  for (auto* cb : callbacks) trainer.add_callback(cb);
  install_stop_signal_handlers();
  out.summary = trainer.run();
  out.model = algo->model();
  out.log = trainer.log();

  // ---- results ----
  std::map<std::string, RowMatrix> extras;
  algo->final_outputs(extras);
  if (output != "none") {
    comm.agree_on_errors([&] {
      if (comm.is_root()) {
        // Another process may have created the file while this one trained: keep both.
        std::error_code ec;
        if (!overwrite && topt.resume_path.empty() && std::filesystem::exists(output, ec)) {
          const std::string taken = output;
          const std::string stem = strip_h5(output) + "-p" + std::to_string(::getpid());
          output = stem + ".h5";
          for (int n = 2; std::filesystem::exists(output, ec); ++n) {
            output = stem + "-" + std::to_string(n) + ".h5";
          }
          std::fprintf(stderr,
                       "distopt: warning: %s appeared during the run; results written to %s\n",
                       taken.c_str(), output.c_str());
        }
        ResultContent rc{&config.values(), comm.size(), &out.log,
                         &out.model,       &extras,     &out.summary};
        write_result_file(output, rc);
      }
    });
    comm.broadcast(output);
    out.output_path = output;
  }
  std::ostringstream msg;
  msg << "done: " << out.summary.rounds_done << " rounds (" << to_string(out.summary.termination)
      << ")";
  if (out.summary.target_round) msg << ", target reached at round " << *out.summary.target_round;
  msg << ", " << out.summary.wall_time << " s";
  if (!out.output_path.empty()) msg << ", results in " << out.output_path;
  if (out.summary.termination == Termination::kDiverged) {
    // On stderr as well: a run that produced NaN must not look like a success in a log.
    if (comm.is_root()) {
      std::fprintf(stderr,
                   "distopt: diverged: the loss is %s at round %lld (try a smaller --lr); "
                   "results in %s\n",
                   std::to_string(out.summary.final_row.get("loss")).c_str(),
                   static_cast<long long>(out.summary.rounds_done),
                   out.output_path.empty() ? "no file (--output none)" : out.output_path.c_str());
      std::fflush(stderr);
    }
    msg << "\ndiverged: the loss became " << out.summary.final_row.get("loss") << " at round "
        << out.summary.rounds_done;
  }
  if (out.summary.termination == Termination::kSignal) {
    msg << "\nstopped by signal: checkpoint written to " << out.summary.checkpoint_written
        << "; resume with: distopt train <same options> --resume " << out.summary.checkpoint_written;
  }
  progress_line.on_message(msg.str());
  table.on_message(msg.str());
  json.on_message(msg.str());
  return out;
}

int train_command(Communicator& comm, const std::vector<std::string>& args) {
  // From the start, not only once training begins: a SIGTERM that arrives while the data load
  // (a batch job's time-limit warning, a preemption) then stops the run after its first round
  // with a checkpoint and exit 0, instead of killing the rank with nothing saved.
  install_stop_signal_handlers();
  const auto options = train_options();
  for (const auto& a : args) {
    if (a == "--help" || a == "-h") {
      if (comm.is_root()) std::cout << "usage: distopt train [--config FILE.ini] [--key value ...]\n\n" << options;
      return kExitOk;
    }
  }
  Config config;
  comm.agree_on_errors([&] { config = Config::parse(options, args); });
  if (std::find(args.begin(), args.end(), "--print-config") != args.end()) {
    // What a job script logs before it starts training: the options as this binary resolves
    // them (defaults included) and the world size the launcher gave it. Nothing is read or
    // checked beyond the parse, so it also works when --output or --resume files exist.
    if (comm.is_root()) print_resolved_config(std::cout, config, comm.size());
    return kExitOk;
  }
  const auto out = run_experiment(comm, config);
  return out.summary.termination == Termination::kDiverged ? kExitDiverged : kExitOk;
}

}  // namespace distopt
