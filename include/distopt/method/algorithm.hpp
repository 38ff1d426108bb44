#pragma once
// The method concept. A method (gd, fedavg, ef21, dadao, ...) is written over logical agents and
// talks to the network only through the communicator layer. The Trainer drives it: initialise,
// step round after round, evaluate the model it exposes, checkpoint its state. Methods never print:
// progress goes through the Trainer's callbacks.
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "distopt/comm/agent_sum.hpp"
#include "distopt/comm/communicator.hpp"
#include "distopt/comm/placement.hpp"
#include "distopt/core/types.hpp"
#include "distopt/io/metrics.hpp"
#include "distopt/method/state_archive.hpp"

namespace distopt {

class Objective;
class LocalData;

/// Everything a method needs to run: shared by reference, owned by the caller (run/experiment).
struct RunContext {
  Communicator& comm;      ///< the run's communicator (every rank of the job)
  Objective& objective;    ///< the model; not shared between threads (models keep scratch buffers)
  const LocalData& data;   ///< this rank's rows, agent by agent, and its test slice
  Placement placement;     ///< agents over ranks
  std::uint64_t seed = 1;  ///< --seed: keys every random stream of the run
  Reduction reduction = Reduction::kAllreduce;  ///< how agent sums are reduced across ranks
  /// Weight p_a of every agent in the objective f = Σ_a p_a f_a (Σ p_a = 1): proportional to
  /// sample counts (--weighting samples, default) or uniform.
  std::vector<double> agent_weights;
};

/// A method (see above): stepped round by round by the Trainer, which evaluates model().
class Algorithm {
 public:
  virtual ~Algorithm() = default;
  /// The --algorithm name it runs as, e.g. "gd", "fedavg", "dadao".
  virtual std::string name() const = 0;
  virtual bool supports_checkpoints() const { return true; }  ///< false: refuses checkpoints
  /// True for a method that evaluates its own objective: the Trainer then does not run the
  /// Evaluator (the objective on the run's data) at evaluation points, and the method's
  /// extra_metrics() must set "loss" and "grad_norm_sq" itself (a bilevel method: F(x) and
  /// ‖∇F(x)‖²), so --target-metric, the printers and result files work unchanged. The Trainer
  /// throws Error if either is missing. Default false: the Trainer evaluates model() on the
  /// RunContext's objective and data.
  virtual bool evaluates_itself() const { return false; }

  /// Called once, collectively, with the initial model (identical on every rank), before the
  /// first step and before load() when resuming.
  virtual void initialize(const Vector& x0) = 0;
  /// Performs round `round` (1-based): one iteration (gd/sgd/ef*), one communication round
  /// (federated), one unit of virtual time (event-driven). Collective.
  virtual void step(std::int64_t round) = 0;
  /// True once the method's own budget is used up (fedbuff/fedfix --time: time on their clock):
  /// the Trainer evaluates and ends the run after this round (Termination::kBudget). Must be the
  /// same on every rank. Default: never.
  virtual bool budget_spent() const { return false; }
  /// The model evaluated by the Trainer, identical on every rank (for gossip: the node average).
  virtual const Vector& model() const = 0;
  /// Gradient evaluations (per-sample gradients / rows touched, counted as
  /// "one agent-gradient on a batch" = 1) performed by THIS rank's agents so far.
  virtual std::uint64_t local_grad_evals() const = 0;
  /// Method-specific metrics at an evaluation point (collective): drift, consensus distance...
  virtual void extra_metrics(MetricRow& /*row*/) {}
  /// Checkpoint: the state this rank owns (replicated state may be put by every rank).
  virtual void save(StateArchive& /*out*/) const {}
  /// Restores what save() put, after initialize(); InputError for missing or mismatched state.
  virtual void load(const StateArchive& /*in*/) {}
  /// Extra final outputs written under `/model/<name>` in the result file (collective; the
  /// matrices need only be valid on rank 0), e.g. gossip's per-node models.
  virtual void final_outputs(std::map<std::string, RowMatrix>& /*out*/) {}
};

}  // namespace distopt
