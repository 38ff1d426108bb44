#include "distopt/gossip/dadao.hpp"

#include <cmath>
#include <limits>

#include "distopt/core/check.hpp"
#include "distopt/core/error.hpp"
#include "distopt/core/parse.hpp"
#include "distopt/core/strings.hpp"
#include "distopt/gossip/optimum.hpp"

namespace distopt {

namespace {
// --grad-rates: "auto", "uniform" or a comma list of <node>[-<node>]:<rate> (other nodes: rate 1).
std::vector<double> gradient_rates(const std::string& spec, const GossipProblem& problem,
                                   bool wall) {
  const Index n = problem.nodes();
  std::vector<double> rates(static_cast<std::size_t>(n), 1.0);
  if (spec == "uniform") return rates;
  if (spec == "auto") {
    // A straggler rank's nodes run their gradient clocks at the rate they can sustain.
    const GradientCost& cost = problem.cost();
    if (wall && cost.slow_rank() >= 0) {
      for (Index i = 0; i < n; ++i) {
        if (problem.owner(i) == cost.slow_rank()) rates[static_cast<std::size_t>(i)] = 1.0 / cost.slow_factor();
      }
    }
    return rates;
  }
  for (const std::string& item : split(spec, ',')) {
    const auto parts = split(item, ':');
    if (parts.size() != 2) throw ConfigError("grad-rates", "expected <node>[-<node>]:<rate>, got '" + item + "'");
    const auto range = split(parts[0], '-');
    if (range.empty() || range.size() > 2) throw ConfigError("grad-rates", "bad node range '" + parts[0] + "'");
    const auto lo = parse_int("grad-rates", range[0]);
    const auto hi = range.size() == 2 ? parse_int("grad-rates", range[1]) : lo;
    const double r = parse_double("grad-rates", parts[1]);
    if (lo < 0 || hi >= n || lo > hi) {
      throw ConfigError("grad-rates", "node range '" + parts[0] + "' is outside 0.." + std::to_string(n - 1));
    }
    if (!(r > 0 && r <= 1)) throw ConfigError("grad-rates", "a rate must be in (0, 1], got " + parts[1]);
    for (auto i = lo; i <= hi; ++i) rates[static_cast<std::size_t>(i)] = r;
  }
  return rates;
}

std::uint64_t sum(const std::vector<std::uint64_t>& v) {
  std::uint64_t s = 0;
  for (auto x : v) s += x;
  return s;
}
}  // namespace

void DadaoOptions::validate() const {
  gossip.validate();
  if (time) check::positive("time", *time);
  if (clock == DadaoClock::kWall) check::positive("time-scale", time_scale);
  if (comm_rate) check::positive("comm-rate", *comm_rate);
  if (grad_rates.empty()) throw ConfigError("grad-rates", "no gradient rates given");
}

Dadao::Dadao(RunContext& ctx, DadaoOptions options) : ctx_(ctx), problem_(ctx, options.gossip) {
  options.validate();
  wall_ = options.clock == DadaoClock::kWall;
  t_end_ = options.time ? *options.time : std::numeric_limits<double>::infinity();
  if (!(problem_.mu() > 0)) {
    throw ConfigError("l2", "dadao needs every node's function to be strongly convex, but the smallest "
                            "strong-convexity constant is 0: set --l2 > 0");
  }
  const auto& sp = problem_.spectrum();
  const double lc =
      options.comm_rate ? *options.comm_rate : DadaoConstants::default_comm_rate(sp.chi1, sp.chi2);
  c_ = DadaoConstants::make(problem_.L(), problem_.mu(), sp.chi1, sp.chi2, lc);
  ode_ = std::make_unique<DadaoOde>(c_);
  schedule_ = EventSchedule(problem_.graph(), ctx.seed, 1.0, c_.comm_rate);
  schedule_.set_node_rates(gradient_rates(options.grad_rates, problem_, wall_));
  const bool compensate = options.rate_compensation;
  if (wall_) {
    wallclock_ = std::make_unique<WallClockEngine>(problem_, nodes_, *ode_, c_, schedule_,
                                                   options.time_scale, compensate);
  } else {
    virtual_ = std::make_unique<VirtualTimeEngine>(problem_, nodes_, *ode_, c_, schedule_, compensate);
  }
}

void Dadao::initialize(const Vector& x0) {
  nodes_.clear();
  for (Index i = problem_.local_first(); i < problem_.local_first() + problem_.local_count(); ++i) {
    nodes_.emplace_back(i, x0);
  }
  x_star_ = solve_optimum(ctx_, x0, problem_.L_mean(), problem_.mu_mean()).x;
  t_now_ = 0;
  stepped_round_ = run_round_ = 0;
  models_.reset();
  if (wallclock_) wallclock_->start();
}

void Dadao::step(std::int64_t round) {
  if (static_cast<double>(round - 1) >= t_end_) return;  // past --time
  if (wallclock_) wallclock_->advance(round, t_end_);
  else
    stepped_round_ = round;
  t_now_ = std::min(static_cast<double>(round), t_end_);
  models_.reset();
}

void Dadao::catch_up() const {
  if (!virtual_ || run_round_ >= stepped_round_) return;
  virtual_->advance(run_round_ + 1, stepped_round_, t_end_);
  run_round_ = stepped_round_;
}

const RowMatrix& Dadao::node_models() const {
  catch_up();
  if (!models_) {
    const Index d = x_star_.size();
    RowMatrix local(static_cast<Index>(nodes_.size()), d);
    Vector x(d);
    for (std::size_t k = 0; k < nodes_.size(); ++k) {
      nodes_[k].x_at(t_now_, *ode_, x);
      local.row(static_cast<Index>(k)) = x.transpose();
    }
    models_ = gather_nodes(ctx_.comm, ctx_.placement, local);
    mean_ = NodeSummary::of(*models_, x_star_).mean;
  }
  return *models_;
}

const Vector& Dadao::model() const {
  node_models();
  return mean_;
}

std::uint64_t Dadao::grad_events() {
  catch_up();
  const auto& v = wallclock_ ? wallclock_->grad_events() : virtual_->grad_events();
  return ctx_.comm.allreduce_sum(sum(v));
}

std::uint64_t Dadao::comm_events() {
  catch_up();
  const auto& v = wallclock_ ? wallclock_->comm_events() : virtual_->comm_events();
  return ctx_.comm.allreduce_sum(sum(v));
}

void Dadao::extra_metrics(MetricRow& row) {
  const auto s = NodeSummary::of(node_models(), x_star_);
  row.set("dist_to_opt", s.dist_to_opt);
  row.set("consensus", s.consensus);
  row.set("grad_events", static_cast<double>(grad_events()));
  row.set("comm_events", static_cast<double>(comm_events()));
  row.set("virtual_time", t_now_);
  if (wallclock_) {
    row.set("absorbed_grad_events",
            static_cast<double>(ctx_.comm.allreduce_sum(wallclock_->absorbed_gradients())));
    row.set("skipped_comm_events",
            static_cast<double>(ctx_.comm.allreduce_sum(wallclock_->skipped_exchanges())));
  }
}

void Dadao::save(StateArchive& out) const {
  catch_up();
  for (std::size_t k = 0; k < nodes_.size(); ++k) {
    const DadaoNode& nd = nodes_[k];
    const RowMatrix& P = nd.state();
    std::vector<double> v(1 + static_cast<std::size_t>(P.size()));
    v[0] = nd.last_event();
    std::copy(P.data(), P.data() + P.size(), v.begin() + 1);
    out.put(StateArchive::agent_key(nd.id(), "dadao/state"), std::move(v));
    out.put_u64(StateArchive::agent_key(nd.id(), "dadao/events"),
                {virtual_->grad_events()[k], virtual_->comm_events()[k]});
  }
  out.put_scalar("dadao/virtual_time", t_now_);
}

void Dadao::load(const StateArchive& in) {
  for (std::size_t k = 0; k < nodes_.size(); ++k) {
    DadaoNode& nd = nodes_[k];
    const auto& v = in.get_doubles(StateArchive::agent_key(nd.id(), "dadao/state"));
    const Index d = x_star_.size();
    if (static_cast<Index>(v.size()) != 1 + 6 * d) throw InputError("checkpoint: DADAO state has the wrong size");
    RowMatrix P(6, d);
    std::copy(v.begin() + 1, v.end(), P.data());
    nd.restore(v[0], P);
    const auto& ev = in.get_u64(StateArchive::agent_key(nd.id(), "dadao/events"));
    virtual_->grad_events()[k] = ev[0];
    virtual_->comm_events()[k] = ev[1];
  }
  problem_.restore_gradients(sum(virtual_->grad_events()));
  t_now_ = in.get_scalar("dadao/virtual_time");
  // The checkpoint holds every event up to t_now_ = min(round, --time): its round.
  stepped_round_ = run_round_ = static_cast<std::int64_t>(std::ceil(t_now_));
  models_.reset();
}

void Dadao::final_outputs(std::map<std::string, RowMatrix>& out) { out["nodes"] = node_models(); }

}  // namespace distopt
