#include "distopt/method/trainer.hpp"

#include <chrono>
#include <cmath>
#include <csignal>
#include <sstream>

#include "distopt/core/error.hpp"
#include "distopt/core/parse.hpp"
#include "distopt/io/hdf5.hpp"
#include "distopt/model/objective.hpp"

namespace distopt {

// ---------------- stop signals ----------------

namespace {
volatile std::sig_atomic_t g_stop = 0;
extern "C" void on_stop_signal(int) {
  g_stop = 1;
}
}  // namespace

void install_stop_signal_handlers() {
  std::signal(SIGTERM, on_stop_signal);
  std::signal(SIGINT, on_stop_signal);
}
bool stop_requested() {
  return g_stop != 0;
}
void clear_stop_request() {
  g_stop = 0;
}

// ---------------- target metric ----------------

bool TargetMetric::reached(const MetricRow& row) const {
  if (!row.has(name)) return false;
  const double v = row.get(name);
  return less ? v < value : v > value;
}

TargetMetric TargetMetric::parse(const std::string& text) {
  const auto pos = text.find_first_of("<>");
  if (pos == std::string::npos || pos == 0 || pos + 1 >= text.size()) {
    throw ConfigError("target-metric", "expected NAME<VALUE or NAME>VALUE, got '" + text + "'");
  }
  TargetMetric t;
  t.name = text.substr(0, pos);
  t.less = text[pos] == '<';
  t.value = parse_double("target-metric", text.substr(pos + 1));
  return t;
}

std::string TargetMetric::str() const {
  std::ostringstream os;
  os << name << (less ? "<" : ">") << value;
  return os.str();
}

// ---------------- trainer ----------------

Trainer::Trainer(RunContext& ctx, Algorithm& algorithm, TrainerOptions options)
    : ctx_(ctx), algo_(algorithm), opt_(std::move(options)), evaluator_(ctx) {}

MetricRow Trainer::evaluate(std::int64_t round, double wall) {
  MetricRow row;
  row.set("round", static_cast<double>(round));
  const Vector& x = algo_.model();
  // A method that evaluates itself computes its metrics where the Evaluator would run (so the
  // traffic of that evaluation is counted in this row as the Evaluator's is); "loss" and
  // "grad_norm_sq" keep their columns right after "round".
  MetricRow own;
  if (algo_.evaluates_itself()) {
    algo_.extra_metrics(own);
    if (!own.has("loss") || !own.has("grad_norm_sq")) {
      throw Error("method '" + algo_.name() +
                  "' evaluates itself but its extra_metrics() set no \"loss\" or \"grad_norm_sq\"");
    }
    row.set("loss", own.get("loss"));
    row.set("grad_norm_sq", own.get("grad_norm_sq"));
  } else {
    evaluator_.evaluate(x).write(row);
  }
  // Global counters: summed over ranks. Logical traffic is per agent; the totals are over agents.
  const auto t = ctx_.comm.traffic().local_total();
  std::uint64_t c[8] = {algo_.local_grad_evals(),
                        t.bytes(),
                        t.bytes_up,
                        t.bytes_down,
                        t.bytes_peer,
                        t.messages(),
                        0,
                        0};
  c[6] = ctx_.comm.traffic().mpi_bytes();
  ctx_.comm.allreduce_sum(std::span<std::uint64_t>(c, 8));
  row.set("grad_evals", static_cast<double>(c[0]));
  row.set("bytes_logical", static_cast<double>(c[1]));
  row.set("bytes_up", static_cast<double>(c[2]));
  row.set("bytes_down", static_cast<double>(c[3]));
  row.set("bytes_peer", static_cast<double>(c[4]));
  row.set("messages", static_cast<double>(c[5]));
  row.set("bytes_mpi", static_cast<double>(c[6]));
  if (algo_.evaluates_itself()) {
    for (const auto& [name, value] : own.items()) row.set(name, value);
  } else {
    algo_.extra_metrics(row);
  }
  row.set("wall_time", wall);
  return row;
}

void Trainer::checkpoint(std::int64_t round, double wall, const std::string& path) {
  StateArchive a;
  a.put_count("trainer/round", static_cast<std::uint64_t>(round));
  a.put_scalar("trainer/wall_time", wall);
  a.put_count("trainer/world_size", static_cast<std::uint64_t>(ctx_.comm.size()));
  a.put_u64("trainer/metric_count", {static_cast<std::uint64_t>(log_.names().size())});
  for (std::size_t i = 0; i < log_.names().size(); ++i) {
    a.put("trainer/metrics/" + std::to_string(i), log_.column(log_.names()[i]));
    std::vector<std::uint64_t> name(log_.names()[i].begin(), log_.names()[i].end());
    a.put_u64("trainer/metric_names/" + std::to_string(i), std::move(name));
  }
  for (const auto& [agent, t] : ctx_.comm.traffic().per_agent()) {
    a.put_u64(
        StateArchive::agent_key(agent, "traffic"),
        {t.bytes_up, t.messages_up, t.bytes_down, t.messages_down, t.bytes_peer, t.messages_peer});
  }
  a.put_u64("rank/" + std::to_string(ctx_.comm.rank()) + "/mpi",
            {ctx_.comm.traffic().mpi_bytes(), ctx_.comm.traffic().mpi_calls()});
  for (const auto& [key, value] : opt_.fingerprint) {
    a.put_u64("fingerprint/" + key, std::vector<std::uint64_t>(value.begin(), value.end()));
  }
  algo_.save(a);
  a.save(ctx_.comm, path);
}

void Trainer::check_metric_names(const MetricRow& row) {
  // The names of a row are the same on every rank (every rank evaluates the same metrics), but
  // the errors are agreed anyway: a rank that rejected alone would leave the others in the
  // first round's collectives.
  ctx_.comm.agree_on_errors([&] {
    if (opt_.target && !row.has(opt_.target->name)) {
      std::string names;
      for (const auto& [name, value] : row.items()) names += (names.empty() ? "" : ", ") + name;
      throw ConfigError("target-metric", "'" + opt_.target->name + "' is not a metric of method " +
                                             algo_.name() + " (available: " + names + ")");
    }
    for (auto* cb : callbacks_) cb->check_metric_names(row);
  });
}

const char* to_string(Termination t) {
  switch (t) {
    case Termination::kBudget:
      return "budget";
    case Termination::kTarget:
      return "target";
    case Termination::kSignal:
      return "signal";
    case Termination::kCallback:
      return "callback";
    case Termination::kDiverged:
      return "diverged";
  }
  return "?";
}

std::map<std::string, std::string> checkpoint_fingerprint(const std::string& path) {
  auto f = h5::File::open(path);
  if (!f.has_attr("kind") || f.attr_string("kind") != "distopt-checkpoint") {
    throw FileError(path, "not a distopt checkpoint (no /state group)");
  }
  std::map<std::string, std::string> out;
  if (!f.is_group("state/fingerprint")) return out;
  const auto g = f.group("state/fingerprint");
  for (const auto& key : g.children()) {
    const auto chars = g.array(key).read_ints();
    out[key] = std::string(chars.begin(), chars.end());
  }
  return out;
}

void Trainer::initialize() {
  const Vector x0 =
      opt_.initial_model ? *opt_.initial_model : ctx_.objective.initial_point(ctx_.seed);
  algo_.initialize(x0);
  initialized_ = true;
}

void Trainer::restore(const std::string& path) {
  if (!initialized_) initialize();
  StateArchive a;
  ctx_.comm.agree_on_errors([&] { a = StateArchive::load(path); });
  start_round_ = static_cast<std::int64_t>(a.get_count("trainer/round"));
  wall_offset_ = a.get_scalar("trainer/wall_time");
  const auto n = a.get_count("trainer/metric_count");
  std::vector<std::string> names;
  std::vector<std::vector<double>> cols;
  for (std::uint64_t i = 0; i < n; ++i) {
    const auto& nm = a.get_u64("trainer/metric_names/" + std::to_string(i));
    names.emplace_back(nm.begin(), nm.end());
    cols.push_back(a.get_doubles("trainer/metrics/" + std::to_string(i)));
  }
  log_.restore(names, cols);
  std::map<Index, AgentTraffic> traffic;
  for (Index ag = ctx_.placement.local_first(); ag < ctx_.placement.end(ctx_.comm.rank()); ++ag) {
    const auto key = StateArchive::agent_key(ag, "traffic");
    if (!a.has(key)) continue;
    const auto& v = a.get_u64(key);
    traffic[ag] = AgentTraffic{v[0], v[1], v[2], v[3], v[4], v[5]};
  }
  std::uint64_t mpi_bytes = 0, mpi_calls = 0;
  const auto rk = "rank/" + std::to_string(ctx_.comm.rank()) + "/mpi";
  if (a.get_count("trainer/world_size") == static_cast<std::uint64_t>(ctx_.comm.size()) &&
      a.has(rk)) {
    mpi_bytes = a.get_u64(rk)[0];
    mpi_calls = a.get_u64(rk)[1];
  }
  ctx_.comm.traffic().restore(std::move(traffic), mpi_bytes, mpi_calls);
  algo_.load(a);
  restored_ = true;
  for (auto* cb : callbacks_) {
    cb->on_message("resumed from " + path + " at round " + std::to_string(start_round_));
  }
}

Summary Trainer::run() {
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  Summary s;

  if (!initialized_) initialize();
  if (!opt_.resume_path.empty() && !restored_) restore(opt_.resume_path);
  const std::int64_t start_round = start_round_;
  const double wall_offset = wall_offset_;

  bool callback_stop = false;
  bool diverged = false;
  auto wall = [&] {
    return wall_offset + std::chrono::duration<double>(clock::now() - t0).count();
  };
  bool names_checked = false;
  auto record = [&](std::int64_t round) {
    MetricRow row = evaluate(round, wall());
    if (!names_checked) check_metric_names(row);
    names_checked = true;
    log_.append(row);
    for (auto* cb : callbacks_) cb->on_evaluation(row);
    const EvaluationPoint point{round, row, algo_.model(), algo_};
    for (auto* cb : callbacks_) callback_stop = cb->should_stop(point) || callback_stop;
    s.final_row = row;
    // The loss is the same on every rank (the Evaluator reduces it), so every rank stops after
    // the same round. NaN/inf never recovers: running on wastes the budget and hides the cause.
    if (row.has("loss") && !std::isfinite(row.get("loss"))) diverged = true;
    if (opt_.target && !s.target_round && opt_.target->reached(row)) {
      s.target_round = round;
      s.target_wall_time = row.get("wall_time");
    }
  };

  if (start_round == 0) {
    record(0);
  } else if (log_.rows() > 0) {
    // Resumed: the restored rows have the names this run produces; check them before training.
    MetricRow last;
    for (const auto& name : log_.names()) last.set(name, log_.column(name).back());
    check_metric_names(last);
    names_checked = true;
  }
  s.termination = Termination::kBudget;
  std::int64_t round = start_round;
  if (s.target_round) s.termination = Termination::kTarget;
  if (diverged) s.termination = Termination::kDiverged;
  while (round < opt_.rounds && !s.target_round && !diverged) {
    ++round;
    algo_.step(round);
    const bool spent = algo_.budget_spent();  // replicated: every rank ends after this round
    const bool eval_now = round % opt_.eval_every == 0 || round == opt_.rounds || spent;
    if (eval_now) record(round);
    if (!callbacks_.empty()) {
      const double w = wall();
      for (auto* cb : callbacks_) cb->on_round_end(round, w);
    }
    if (diverged) {
      s.termination = Termination::kDiverged;
      break;
    }
    if (s.target_round) {
      s.termination = Termination::kTarget;
      break;
    }
    if (spent) break;  // Termination::kBudget
    if (opt_.checkpoint_every > 0 && round % opt_.checkpoint_every == 0 && round < opt_.rounds) {
      checkpoint(round, wall(), opt_.checkpoint_path);
      s.checkpoint_written = opt_.checkpoint_path;
    }
    // One vote per round, agreed across ranks so that every rank stops after the same round. Only
    // when someone wants to stop does a second vote tell a signal (checkpoint) from a callback.
    if (ctx_.comm.any(stop_requested() || callback_stop)) {
      if (ctx_.comm.any(stop_requested())) {
        checkpoint(round, wall(), opt_.checkpoint_path);
        s.checkpoint_written = opt_.checkpoint_path;
        s.termination = Termination::kSignal;
      } else {
        s.termination = Termination::kCallback;
      }
      break;
    }
  }
  s.rounds_done = round;
  s.wall_time = wall();
  return s;
}

}  // namespace distopt
