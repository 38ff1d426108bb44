#pragma once
// FedBuff (Nguyen et al., "Federated Learning with Buffered Asynchronous Aggregation", AISTATS
// 2022, arXiv 2106.06639; ALGORITHMS.md §1), in simulated time (AsyncFederated):
//   C = --concurrency clients are in flight; each trains on the model x^{v_i} it downloaded and
//   returns u_i = y_i − x^{v_i}; the server adds s(τ_i) u_i to its buffer (τ_i = v − v_i, the
//   server versions elapsed since the download) and after K = --buffer-size arrivals steps
//       Δ = Σ_{buffer} w_i s(τ_i) u_i,     x^{v+1} = ServerOpt(x^v, Δ)
//   with w_i = 1/K (--fedbuff-weights uniform, the paper's Algorithm 1) or p_i / Σ_{buffer} p_j
//   (--fedbuff-weights data: FedAvg's weights over the buffer). Each returning client is replaced
//   by one drawn uniformly among the idle clients (the returning one included), which downloads
//   the current model. Clients that return at the same simulated time are all buffered (the
//   server may step in between) before the replacements download: with K = C = N and equal speeds
//   every client therefore starts every "round" from the same model and FedBuff is FedAvg (with
//   full participation), bit for bit with --fedbuff-weights data.
// Staleness weights s(τ) (--staleness): sqrt, 1/√(1+τ) (default, the paper's); constant, 1;
// poly:A, (1+τ)^(−A).
// The replacement draws come from the stream (seed, 1, dispatch index, Purpose::kSampling), the
// initial C clients from (seed, 1, 0, kSampling) without replacement.
// One Trainer round is one server update (version), with either clock. With --clock wall the
// replacement of a returning client is drawn (same stream) as soon as its update has been
// buffered, and downloads the model the server holds then; an arrival that finds the buffer full
// (the round is ending) waits for the next round, where its staleness is counted.
#include "distopt/federated/async_federated.hpp"

namespace distopt {

/// The staleness weight s(τ) of FedBuff (--staleness).
struct StalenessWeight {
  /// Which function.
  enum class Kind { kSqrt, kConstant, kPolynomial };
  Kind kind = Kind::kSqrt;  ///< default 1/√(1+τ)
  double exponent = 0.5;    ///< poly:A: A >= 0
  /// Parses sqrt | constant | poly:A; ConfigError("staleness", ...) otherwise.
  static StalenessWeight parse(const std::string& spec);
  /// s(τ).
  double operator()(std::int64_t tau) const;
};

/// How FedBuff weighs the buffered updates (--fedbuff-weights).
enum class FedBuffWeights {
  kUniform,  ///< 1/K (the paper)
  kData      ///< p_i / Σ_{buffer} p_j (FedAvg's weights over the buffer)
};

/// FedBuff's options.
struct FedBuffOptions {
  /// Local schedule, step sizes, server optimiser, client speeds, clock.
  AsyncFederatedOptions async{};
  /// --buffer-size: K >= 1 arrivals per server update (default 10).
  Index buffer_size = 10;
  /// --concurrency: C clients in flight, in [1, N]; 0 (default): all N clients.
  Index concurrency = 0;
  /// --staleness (default sqrt).
  StalenessWeight staleness{};
  /// --fedbuff-weights (default uniform).
  FedBuffWeights weights = FedBuffWeights::kUniform;
  /// async.validate(), ConfigError("buffer-size" | "concurrency" | "staleness", ...) when out of
  /// range (C <= N is checked when the method is built).
  void validate() const;
};

/// FedBuff (above).
class FedBuff : public AsyncFederated {
 public:
  /// Validates `options` (ConfigError naming the option, also for C > N) and builds the method.
  FedBuff(RunContext& ctx, FedBuffOptions options);
  void step(std::int64_t round) override;
  Index concurrency() const { return concurrency_; }  ///< C

 protected:
  /// The replacements still to dispatch (server/fedbuff/pending).
  void save_method(StateArchive& out) const override;
  /// Restores what save_method() put.
  void load_method(const StateArchive& in) override;
  // Wall clock (async_federated.hpp): C clients sampled at the start, s(τ) per arrival, a server
  // update after K arrivals (later ones wait for the next round), a replacement per arrival.
  void wall_start() override;
  double arrival_factor(const InFlight& f) const override;
  bool buffer_full() const override;
  bool wall_ready() const override { return buffer_full(); }
  void server_update() override;
  void on_arrival(const InFlight& f) override;

 private:
  void dispatch_replacements();
  void dispatch_initial();
  FedBuffOptions o_;
  Index concurrency_;
  std::uint64_t pending_ = 0;  // returned clients not replaced yet (replicated)
};

}  // namespace distopt
