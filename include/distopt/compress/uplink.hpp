#pragma once
// The uplink: how agents' vectors reach the server. Every method that sums per-agent vectors at a
// server (gd/sgd gradients, federated client updates) sends them through an Uplink, so that
// compression and error feedback plug in without the method knowing:
//
//   uplink.begin(d);
//   for each local agent a (increasing id): uplink.submit(a, v_a, w_a);
//   uplink.finish(estimate);   // collective: the server's estimate of Σ_a w_a v_a
//
// The dense uplink sends v_a as it is (d values at the wire precision). Compressed uplinks encode
// a real byte message per agent (counted exactly), move it without densifying, and keep each
// agent's error-feedback state (EF14, EF21, EF21-W, EControl) with the agent.
#include <memory>

#include "distopt/comm/agent_sum.hpp"
#include "distopt/compress/link_options.hpp"
#include "distopt/method/algorithm.hpp"

namespace distopt {

/// How agents' vectors reach the server, round by round: begin(), submit() per local agent,
/// finish() (see above).
class Uplink {
 public:
  virtual ~Uplink() = default;
  /// The compressor spec it uses, e.g. "none", "topk:10+ef21" (with the feedback), "powersgd:2".
  virtual std::string name() const = 0;
  /// Starts a round of vectors of dimension `dim`.
  virtual void begin(Index dim) = 0;
  /// Adds this rank's local agent `agent`'s vector v with weight `weight` (agents in increasing
  /// id order), counting its upload as the agent's logical up traffic.
  virtual void submit(Index agent, const Eigen::Ref<const Vector>& v, double weight) = 0;
  /// Collective: sets `estimate` to the server's estimate of Σ_a w_a v_a over the agents
  /// submitted this round on every rank (identical on every rank).
  virtual void finish(Vector& estimate) = 0;
  /// Checkpoint: puts the uplink's state (error memories, counters) under keys starting with
  /// `prefix`; nothing for a stateless uplink.
  virtual void save(StateArchive& /*out*/, const std::string& /*prefix*/) const {}
  /// Restores what save() put under `prefix` (InputError for missing or mismatched state).
  virtual void load(const StateArchive& /*in*/, const std::string& /*prefix*/) {}
};

/// Uncompressed: estimate = Σ w_a v_a exactly; counts d * wire-bytes up per submitting agent.
class DenseUplink : public Uplink {
 public:
  /// Sums over `comm` with `reduction`; `value_bytes` is the counted size of one value.
  DenseUplink(Communicator& comm, Reduction reduction, std::size_t value_bytes = sizeof(double))
      : comm_(comm), sum_(comm, reduction), value_bytes_(value_bytes) {}
  std::string name() const override { return "none"; }
  void begin(Index dim) override { sum_.reset(dim); dim_ = dim; }
  void submit(Index agent, const Eigen::Ref<const Vector>& v, double weight) override {
    sum_.add(agent, v, weight);
    comm_.traffic().add_up(agent, static_cast<std::uint64_t>(dim_) * value_bytes_);
  }
  void finish(Vector& estimate) override { sum_.finish(estimate); }

 private:
  Communicator& comm_;
  AgentSum sum_;
  std::size_t value_bytes_;
  Index dim_ = 0;
};

/// Builds the uplink its options select (dense when nothing is compressed); validates them
/// (ConfigError naming the key). `stream` distinguishes independent uplinks of one run (e.g.
/// "grad", "update"): each draws its own random numbers.
std::unique_ptr<Uplink> make_uplink(RunContext& ctx, const UplinkOptions& options,
                                    const std::string& stream = "up");

}  // namespace distopt
