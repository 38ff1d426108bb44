#pragma once
// DADAO (--algorithm dadao): decoupled asynchronous decentralized accelerated optimisation
// (Nabli & Oyallon, ICML 2023, arXiv 2208.00779; ALGORITHMS.md §3) over the gossip nodes placed
// on the ranks. One Trainer round is one unit of virtual time (--time T caps it at T); the node
// models are evaluated at the round's end time, each integrated there without touching its state.
//   --clock virtual (default): VirtualTimeEngine, bitwise identical at any number of ranks;
//   --clock wall: WallClockEngine, real asynchrony with --time-scale seconds per unit.
// Metrics: dist_to_opt = (1/n) Σ‖x_i − x*‖² (x* from a centralised solve at initialisation),
// consensus = (1/n) Σ‖x_i − x̄‖², grad_events, comm_events, virtual_time.
#include <memory>
#include <optional>

#include "distopt/gossip/dadao_node.hpp"
#include "distopt/gossip/event_schedule.hpp"
#include "distopt/gossip/gossip_problem.hpp"
#include "distopt/gossip/virtual_time_engine.hpp"
#include "distopt/gossip/wall_clock_engine.hpp"
#include "distopt/method/algorithm.hpp"

namespace distopt {

class Dadao : public Algorithm {
 public:
  /// Collective. Reads --graph, --clock, --time, --time-scale, --comm-rate, --grad-rates,
  /// --rate-compensation, --grad-cost, --slow-rank.
  explicit Dadao(RunContext& ctx);
  std::string name() const override { return "dadao"; }
  void initialize(const Vector& x0) override;
  void step(std::int64_t round) override;
  const Vector& model() const override;
  std::uint64_t local_grad_evals() const override { return problem_.local_gradients(); }
  void extra_metrics(MetricRow& row) override;
  void save(StateArchive& out) const override;
  void load(const StateArchive& in) override;
  void final_outputs(std::map<std::string, RowMatrix>& out) override;

  const GossipProblem& problem() const { return problem_; }
  const DadaoConstants& constants() const { return c_; }
  const std::vector<DadaoNode>& nodes() const { return nodes_; }
  const Vector& x_star() const { return x_star_; }
  double virtual_time() const { return t_now_; }
  /// Every node's x at the current virtual time, n x d (collective, cached until the next step).
  const RowMatrix& node_models() const;
  /// Global event counts (collective).
  std::uint64_t grad_events();
  std::uint64_t comm_events();

 private:
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
  mutable std::optional<RowMatrix> models_;
  mutable Vector mean_;
};

}  // namespace distopt
