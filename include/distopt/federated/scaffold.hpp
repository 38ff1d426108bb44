#pragma once
// SCAFFOLD, option II (Karimireddy et al., arXiv 1910.06378; ALGORITHMS.md §1).
//   local direction      d = ∇f_i(y; ξ) − c_i + c
//   after K_i steps      c_i⁺ = c_i − c + (x^t − y_i)/(K_i η_l),   Δc_i = c_i⁺ − c_i
//   server               x ← x + η_g Σ_{i∈S} p̃_i (y_i − x^t),     c ← c + Σ_{i∈S} p_i Δc_i
// The c update keeps c = Σ_i p_i c_i over ALL clients (uniform weights: c + (|S|/N) mean_S Δc_i, the
// paper's rule). K_i is the number of steps client i actually took and η_l the round's (decayed)
// local step: 1/(K_i η_l), not 1/epochs (the common bug). Clients upload Δc_i, not c_i.
// Traffic: down x and c (2d values), up y_i − x^t (through the --compressor uplink) and Δc_i (d
// dense values: exact c, so c = Σ p_i c_i holds under compression of the model update too).
#include "distopt/federated/client_states.hpp"
#include "distopt/federated/federated_round.hpp"

namespace distopt {

/// SCAFFOLD (option II): control variates c_i and c correct the local direction.
class Scaffold : public FederatedRound {
 public:
  /// Validates `options` (ConfigError naming the option) and builds the method; SCAFFOLD has
  /// no options of its own.
  Scaffold(RunContext& ctx, FederatedOptions options);
  /// The server control variate c (replicated).
  const Vector& control() const { return c_; }

 protected:
  void initialize_method(Index dim) override;
  void begin_round(std::int64_t round) override;
  void begin_client(Index client) override;
  int direction(Index client, const Vector& y, const DataBlock& batch, Vector& d) override;
  void finish_client(const LocalRun& run, Vector& up) override;
  void server_delta(const Vector& aggregate, double mass, Vector& delta) override;
  Index extra_down_values() const override { return x_.size(); }
  void save_method(StateArchive& out) const override;
  void load_method(const StateArchive& in) override;

 private:
  Vector c_;           // server control variate
  Vector correction_;  // c − c_i of the client being trained
  Vector dc_, dc_sum_;
  ClientStates ci_;
  DenseUplink control_up_;
};

}  // namespace distopt
