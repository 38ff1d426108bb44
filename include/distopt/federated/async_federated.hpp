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
// Wall clock (--clock wall, async_wall.cpp): real time on real ranks. The server (x, the buffer,
// the version, the in-flight table, the histogram) lives on rank 0; every rank trains the clients
// it owns on a worker thread, one client at a time in dispatch order, and the main thread serves
// messages (nonblocking MPI on a duplicated communicator): rank 0 sends a dispatched client's
// model to its owner, the owner sends the update back as soon as it is trained, rank 0 buffers it
// and steps when the method says so (FedBuff: K arrivals; FedFix: every Δt seconds). A Trainer
// round ends at a server update: rank 0 tells every rank, each enters a nonblocking barrier and
// keeps serving (arrivals that come in then wait in a backlog for the next round) until all are
// in it; then x and the counters are broadcast, and the worker threads pause at their next local
// step (they wait on the objective's lock, which the main thread holds while the Trainer
// evaluates). A slow rank therefore delays a round's end by at most one gradient computation (the
// slept slow-down of --slow-rank is outside the lock), never by a whole client.
// --slow-rank R:F makes rank R's local steps F times longer (straggler.hpp, as DADAO's wall clock).
//
// Checkpoints hold x, the server optimiser, the clock, the version, the dispatch counters, the
// in-flight clients, the buffer, the histogram (replicated), and per client on its owner rank the
// held update, the buffered sum and the gradient count: a resumed run continues bit for bit.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "distopt/core/straggler.hpp"
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
  kWall      ///< real time on real ranks (see the file comment): not reproducible
};

/// The options every asynchronous federated method shares.
struct AsyncFederatedOptions {
  /// The local schedule (--local-steps, --local-epochs, --batch-size), --lr, --lr-decay (per
  /// server version), the server optimiser and the client speeds (federated.speed,
  /// --client-speed: the schedule of arrivals). Client sampling and compression options are not
  /// used: the methods' own options say which clients run, and updates go up dense.
  FederatedOptions federated{};
  /// --clock: virtual (default) or wall.
  AsyncClock clock = AsyncClock::kVirtual;
  /// --grad-cost, --slow-rank: the simulated cost of a local step (wall clock only).
  GradientCostOptions cost{};
  /// --time T > 0: the run ends after the first server update at or past T on the method's
  /// clock (units of simulated time, or seconds of the server's wall clock); default none.
  std::optional<double> time_budget;
  /// federated.validate() (speeds included), cost.validate(); ConfigError("compressor" |
  /// "compressor-down", ...) for a compressed link; with the virtual clock
  /// ConfigError("slow-rank" | "grad-cost", ...) when set (simulated time has --client-speed);
  /// with the wall clock ConfigError("client-speed", ...) unless it is the default constant 1
  /// (real speeds are measured, not drawn).
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
  ~AsyncFederated() override;
  std::string name() const override { return name_; }
  /// --time used up: the clock of the last server update reached it (replicated).
  bool budget_spent() const override { return opt_.time_budget && t_now_ >= *opt_.time_budget; }
  /// Wall-clock runs cannot be checkpointed (nothing of a real-time run can be replayed).
  bool supports_checkpoints() const override { return !wall(); }
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
  /// True with --clock wall.
  bool wall() const { return opt_.clock == AsyncClock::kWall; }
  /// Per client: arrivals aggregated into a server update (replicated).
  const std::vector<std::uint64_t>& client_applied() const { return client_applied_; }
  /// Per client: sum of the staleness of its aggregated arrivals (replicated).
  const std::vector<std::uint64_t>& client_staleness() const { return client_staleness_; }
  /// Updates received by the server so far (aggregated, buffered or backlogged; replicated).
  std::uint64_t received() const { return received_; }
  /// Clients dispatched so far (replicated).
  std::uint64_t dispatched() const { return dispatches_; }
  /// Aggregated arrivals so far (replicated).
  std::uint64_t applied() const { return arrivals_; }
  /// Wall clock: collective, idempotent: stops dispatching, waits until every client in flight
  /// has returned its update to the server (those not aggregated are dropped), stops the worker
  /// threads. Called by final_outputs(); a no-op with the virtual clock.
  void finish_wall();

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

  // ---- wall clock (async_wall.cpp): the method's policy, called on rank 0 ----
  /// One Trainer round with the wall clock (collective): serve until the server has stepped once.
  void wall_round();
  /// The first dispatches (rank 0, at the first round).
  virtual void wall_start() = 0;
  /// s(τ) of an arrival (FedBuff) or 1 (FedFix): the factor buffer() applies.
  virtual double arrival_factor(const InFlight& f) const = 0;
  /// True when the buffer takes no more arrivals this round (FedBuff: K of them).
  virtual bool buffer_full() const = 0;
  /// True when the server steps now (FedBuff: K buffered; FedFix: Δt seconds elapsed).
  virtual bool wall_ready() const = 0;
  /// The server update from the buffer (the method's aggregate() call).
  virtual void server_update() = 0;
  /// An update came in (its client is idle again): FedBuff dispatches a replacement.
  virtual void on_arrival(const InFlight& /*f*/) {}
  /// After server_update(): FedFix restarts the clients that returned.
  virtual void after_update() {}
  /// Seconds of the server's wall clock (stopped between rounds, as DADAO's wall clock).
  double wall_time() const;

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
  // wall clock (async_wall.cpp)
  struct Job {
    InFlight f;
    std::uint64_t nth = 0;
    Vector x;
  };
  struct Done {
    InFlight f;
    Vector u;
  };
  struct Send {
    std::vector<double> buf;
    Request req;
  };
  void start_wall();
  bool pump();
  void receipt(const InFlight& f, Vector u);
  void process_backlog();
  void maybe_update();
  void send(int dest, int kind, std::vector<double> buf);
  void reap_sends(bool wait);
  void worker_loop();
  void sync_replicated();
  void stop_worker();
  void resume_clock();
  void pause_clock();
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
  std::vector<std::uint64_t> client_applied_, client_staleness_;
  std::uint64_t received_ = 0;
  Index flights_size_ = 0;  // wall clock: clients in flight at the last round's end (replicated)
  // Wall clock. Rank 0: per client the buffered sum (buffered_all_), the arrivals waiting for the
  // next round (backlog_), the clients in flight by dispatch index (flights_).
  std::unique_ptr<Communicator> wcomm_, self_;
  GradientCost cost_;
  bool wall_started_ = false, wall_finished_ = false, round_over_ = false, stopping_ = false;
  bool finish_seen_ = false;
  std::uint64_t rounds_entered_ = 0, rounds_done_ = 0;  // wall_round() calls, kRoundDone seen
  std::vector<Vector> buffered_all_;
  std::deque<Done> backlog_;
  std::map<std::uint64_t, InFlight> flights_;
  std::deque<Send> sends_;
  std::vector<double> recv_;
  std::chrono::steady_clock::time_point t0_;
  std::optional<std::chrono::steady_clock::time_point> pause_start_;
  double paused_ = 0;
  // Between the main thread and this rank's worker thread.
  mutable std::mutex mu_;    // jobs_, done_, working_, stop_, grad_evals_
  std::mutex objective_mu_;  // the objective: the worker's local steps, the Trainer's evaluation
  std::unique_lock<std::mutex> objective_hold_;  // the main thread's hold between rounds
  std::condition_variable cv_;
  std::deque<Job> jobs_;
  std::deque<Done> done_;
  bool working_ = false, stop_ = false;
  std::exception_ptr worker_error_;  // what the worker thread threw
  std::thread worker_;
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
