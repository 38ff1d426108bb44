#pragma once
// DADAO (--algorithm dadao): decoupled asynchronous decentralized accelerated optimisation
// (Nabli & Oyallon, ICML 2023, arXiv 2208.00779; ALGORITHMS.md §3) over the gossip nodes placed
// on the ranks. One Trainer round is one unit of virtual time (--time T caps it at T); the node
// models are evaluated at the round's end time, each integrated there without touching its state.
//   --clock virtual (default): VirtualTimeEngine, bitwise identical at any number of ranks;
//   --clock wall: WallClockEngine, real asynchrony with --time-scale seconds per unit.
// Metrics: dist_to_opt = (1/n) Σ‖x_i − x*‖² (x* from a centralised solve at initialisation),
// consensus = (1/n) Σ‖x_i − x̄‖², grad_events, comm_events, virtual_time.
//
// In virtual time, step() only records the round: the events of the rounds stepped since the
// last look are run together, in one VirtualTimeEngine::advance over all of them, when something
// reads the state (node_models, model, metrics, event counts, save). The node states are the
// same bits either way (each node's events still run in time order), but a rank can then run
// ahead on its other nodes across round boundaries while one node waits for a reply, and the
// ranks meet once per evaluation instead of once per round (wall time between two evaluations
// is spent at the second one).
#include <memory>
#include <optional>
#include <string>

#include "distopt/gossip/dadao_node.hpp"
#include "distopt/gossip/event_schedule.hpp"
#include "distopt/gossip/gossip_problem.hpp"
#include "distopt/gossip/virtual_time_engine.hpp"
#include "distopt/gossip/wall_clock_engine.hpp"
#include "distopt/method/algorithm.hpp"

namespace distopt {

/// How DADAO's clocks run.
enum class DadaoClock {
  kVirtual,  ///< VirtualTimeEngine: exact, bitwise identical at any rank count
  kWall      ///< WallClockEngine: real time, --time-scale seconds per unit of virtual time
};

/// Typed options of DADAO (Ceres style: defaults are the command line's).
struct DadaoOptions {
  /// --graph, --grad-cost, --slow-rank.
  GossipOptions gossip;
  /// --clock: virtual | wall.
  DadaoClock clock = DadaoClock::kVirtual;
  /// --time: virtual-time horizon T (> 0); none: no horizon (the Trainer's rounds decide).
  std::optional<double> time;
  /// --time-scale: with --clock wall, seconds of wall time per unit of virtual time (> 0; not
  /// used in virtual time).
  double time_scale = 0.01;
  /// --comm-rate: total rate λ_c of communication events (> 0); none ("theory"): the paper's
  /// √(2 χ1 χ2).
  std::optional<double> comm_rate;
  /// --grad-rates: gradient clock rate per node: `uniform` | `auto` | `<node>[-<node>]:<rate>,...`
  /// (checked against the node count when the Dadao is built: ConfigError "grad-rates").
  std::string grad_rates = "uniform";
  /// --rate-compensation: on = scale a slow node's gradient jump by 1/rate (diverges; for
  /// experiments), off = the method's jumps.
  bool rate_compensation = false;
  /// Throws ConfigError naming the option ("time", "time-scale", "comm-rate", "grad-rates", and
  /// those of GossipOptions).
  void validate() const;
};

/// DADAO over the gossip nodes of this rank, in virtual or wall-clock time (see above).
class Dadao : public Algorithm {
 public:
  /// Collective. Validates `options`; throws ConfigError naming the option (also "l2" when a
  /// node's function is not strongly convex).
  Dadao(RunContext& ctx, DadaoOptions options);
  std::string name() const override { return "dadao"; }
  /// Wall-clock runs cannot be checkpointed or resumed (their state depends on timing).
  bool supports_checkpoints() const override { return !wall_; }
  void initialize(const Vector& x0) override;
  /// Virtual time: records the round (its events run at the next read of the state, see above);
  /// wall clock: runs it.
  void step(std::int64_t round) override;
  const Vector& model() const override;
  std::uint64_t local_grad_evals() const override {
    catch_up();
    return problem_.local_gradients();
  }
  void extra_metrics(MetricRow& row) override;
  void save(StateArchive& out) const override;
  void load(const StateArchive& in) override;
  void final_outputs(std::map<std::string, RowMatrix>& out) override;

  const GossipProblem& problem() const { return problem_; }       ///< graph, nodes' functions
  const DadaoConstants& constants() const { return c_; }          ///< the method's constants
  /// This rank's nodes at virtual_time() (collective in virtual time: runs the stepped rounds).
  const std::vector<DadaoNode>& nodes() const {
    catch_up();
    return nodes_;
  }
  /// x* of the centralised solve at initialisation (solve_optimum), for dist_to_opt.
  const Vector& x_star() const { return x_star_; }
  double virtual_time() const { return t_now_; }  ///< virtual time reached by the last step
  /// Every node's x at the current virtual time, n x d (collective, cached until the next step).
  const RowMatrix& node_models() const;
  /// Gradient events of all nodes so far (collective: an allreduce).
  std::uint64_t grad_events();
  /// Communication events of all edges so far, each counted once (collective: an allreduce).
  std::uint64_t comm_events();

 private:
  /// Virtual time: runs the events of the rounds stepped but not run yet (collective). Logically
  /// const: the state at virtual_time() does not depend on when its events run.
  void catch_up() const;

  RunContext& ctx_;
  GossipProblem problem_;
  bool wall_;
  double t_end_;
  DadaoConstants c_;
  std::unique_ptr<DadaoOde> ode_;
  EventSchedule schedule_;
  std::vector<DadaoNode> nodes_;
  std::unique_ptr<VirtualTimeEngine> virtual_;
  std::unique_ptr<WallClockEngine> wallclock_;
  Vector x_star_;
  double t_now_ = 0;
  std::int64_t stepped_round_ = 0;      // last round step() was called for (virtual time)
  mutable std::int64_t run_round_ = 0;  // last round whose events have run
  mutable std::optional<RowMatrix> models_;
  mutable Vector mean_;
};

}  // namespace distopt
