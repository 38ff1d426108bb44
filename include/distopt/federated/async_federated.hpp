#pragma once
// The machinery shared by the asynchronous federated methods FedBuff and FedFix (ALGORITHMS.md §1,
// "Asynchronous federated learning"), in simulated (virtual) time:
//
//   * clients have speeds s_i (ClientSpeedOptions); a client dispatched at time t on the server
//     model x^v (version v = number of server updates so far) runs its K_i local steps from x^v
//     (the LocalSolver of the synchronous round, step size η_l(v+1) = lr · lr_decay^v, minibatch
//     stream keyed by the client's own dispatch count) and returns u_i = y_i − x^v at
//     t + τ_i, τ_i = max(K_i, 1) / s_i;
//   * the arrival schedule depends only on the speeds, the step counts and the seed, never on model
//     values, so every rank computes it identically (ArrivalQueue, async_schedule.hpp, replicated);
//     a client's update depends only on the model it downloaded, so the rank that holds the client
//     computes it at dispatch and keeps it until the arrival;
//   * arrived updates wait in the server's buffer: the owner rank keeps, per client, the sum of its
//     buffered updates in arrival order, each scaled by the method's per-arrival factor (FedBuff's
//     staleness weight s(τ), FedFix: 1); at an aggregation the server sums w_i · (that sum) over
//     the buffered clients in client order (AgentSum, so --reduction ordered is bitwise identical
//     at any rank count) into the pseudo-gradient Δ and the server optimiser (FedOpt) steps
//     x^{v+1} from Δ.
//
// Staleness of an arrival: τ = v_now − v_download, the server versions elapsed since the client
// downloaded its model. Every aggregated arrival is counted in the staleness histogram
// (final_outputs "staleness_histogram": rows [τ, count]).
//
// Checkpoints hold x, the server optimiser, the clock, the version, the dispatch counters, the
// in-flight clients, the buffer, the histogram (replicated), and per client on its owner rank the
// held update, the buffered sum and the gradient count: a resumed run continues bit for bit.
#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "distopt/federated/async_schedule.hpp"
#include "distopt/federated/client_speed.hpp"
#include "distopt/federated/federated_options.hpp"
#include "distopt/federated/local_solver.hpp"
#include "distopt/federated/server_optimizer.hpp"
#include "distopt/method/algorithm.hpp"

namespace distopt {

/// How the asynchronous methods' clock runs (--clock).
enum class AsyncClock {
  kVirtual,  ///< event-driven simulated time, bitwise identical at any rank count
  kWall      ///< real time on real ranks (not implemented yet: refused by validate())
};

/// The options every asynchronous federated method shares.
struct AsyncFederatedOptions {
  /// The local schedule (--local-steps, --local-epochs, --batch-size), --lr, --lr-decay (per
  /// server version) and the server optimiser. Client sampling and compression options are not
  /// used: the methods' own options say which clients run, and updates go up dense.
  FederatedOptions federated{};
  /// --client-speed: the clients' speeds (default constant 1).
  ClientSpeedOptions speed{};
  /// --clock: virtual (default). wall is refused with ConfigError("clock", ...) for now.
  AsyncClock clock = AsyncClock::kVirtual;
  /// federated.validate(), speed.validate(); ConfigError("compressor" | "compressor-down", ...)
  /// for a compressed link, ConfigError("clock", ...) for the wall clock.
  void validate() const;
};

/// One arrival waiting in the server's buffer.
struct BufferedArrival {
  Index client = 0;            ///< the client
  std::int64_t staleness = 0;  ///< τ = versions elapsed since its download
};

/// Base of FedBuff and FedFix: dispatching, held updates, the buffer, aggregation, metrics and
/// checkpoints (see the file comment). Subclasses drive the schedule in step().
class AsyncFederated : public Algorithm {
 public:
  std::string name() const override { return name_; }
  void initialize(const Vector& x0) override;
  const Vector& model() const override { return x_; }
  std::uint64_t local_grad_evals() const override;
  void extra_metrics(MetricRow& row) override;
  void save(StateArchive& out) const override;
  void load(const StateArchive& in) override;
  void final_outputs(std::map<std::string, RowMatrix>& out) override;

  double virtual_time() const { return t_now_; }                 ///< simulated time reached
  std::int64_t version() const { return version_; }              ///< server updates so far
  const std::vector<double>& speeds() const { return speeds_; }  ///< s_i of every client
  /// τ_i = max(K_i, 1)/s_i of every client (after initialize()).
  const std::vector<double>& compute_times() const { return compute_time_; }
  /// Aggregated arrivals by staleness: entry τ counts the arrivals of staleness τ.
  const std::vector<std::uint64_t>& staleness_histogram() const { return histogram_; }
  /// The options the method was built with.
  const AsyncFederatedOptions& async_options() const { return opt_; }

 protected:
  /// Validates `options` (ConfigError naming the option) before building anything.
  AsyncFederated(RunContext& ctx, std::string name, AsyncFederatedOptions options);

  /// Starts `client` now on x^version: the owner rank trains it and holds its update. It returns
  /// at t_now + τ_i, or at `t_arrival` when given (FedFix: the aggregation it is counted in).
  void dispatch(Index client, std::optional<double> t_arrival = std::nullopt);
  /// Takes the client that arrives next off the queue and advances the clock to its arrival.
  InFlight next_arrival();
  /// Puts an arrival into the buffer; the owner adds factor · u_i to the client's buffered sum.
  void buffer(const InFlight& arrival, double factor);
  /// Collective: Δ = Σ_{buffered clients, client order} weight(client) · (buffered sum), the
  /// server step from Δ (skipped when the buffer is empty), version + 1, buffer cleared.
  template <class Weight>
  void aggregate(const Weight& weight);
  /// The buffered arrivals of the coming aggregation, in arrival order.
  const std::vector<BufferedArrival>& buffered() const { return buffer_; }
  /// True while `client` is in flight.
  bool in_flight(Index client) const { return busy_[static_cast<std::size_t>(client)] != 0; }

  /// Saves the method's own state (replicated, under "server/NAME/..."); default: nothing.
  virtual void save_method(StateArchive& /*out*/) const {}
  /// Restores what save_method() put; default: nothing.
  virtual void load_method(const StateArchive& /*in*/) {}

  RunContext& ctx_;               ///< the run
  Vector x_;                      ///< x^v, replicated
  ArrivalQueue queue_;            ///< the clients in flight (replicated)
  double t_now_ = 0;              ///< simulated time
  std::int64_t version_ = 0;      ///< v: server updates so far (aggregations for FedFix)
  std::uint64_t dispatches_ = 0;  ///< clients dispatched so far (the next InFlight::seq)

 private:
  void aggregate_weights(const std::vector<std::pair<Index, double>>& weights);
  Vector& held(Index client);
  Vector& buffered_sum(Index client);

  std::string name_;
  AsyncFederatedOptions opt_;
  LocalSolver solver_;
  ServerOptimizer server_opt_;
  std::vector<double> speeds_, compute_time_;
  std::vector<std::uint64_t> client_dispatches_;  // per client (replicated)
  std::vector<std::uint8_t> busy_;                // per client: in flight (replicated)
  std::vector<BufferedArrival> buffer_;
  std::vector<std::uint64_t> histogram_;
  std::uint64_t arrivals_ = 0;
  double last_staleness_mean_ = 0, last_staleness_max_ = 0, last_buffer_ = 0;
  // Per local client (owner rank): the held update of its current flight, the buffered sum.
  std::vector<Vector> held_, buffered_;
  std::vector<std::uint8_t> has_buffered_;
  std::vector<std::uint64_t> grad_evals_;
  Vector y_, delta_;
};

template <class Weight>
void AsyncFederated::aggregate(const Weight& weight) {
  std::vector<std::pair<Index, double>> w;
  for (const auto& b : buffer_) w.emplace_back(b.client, 0.0);
  std::sort(w.begin(), w.end());
  w.erase(std::unique(w.begin(), w.end()), w.end());
  for (auto& [client, wi] : w) wi = weight(client);
  aggregate_weights(w);
}

}  // namespace distopt
