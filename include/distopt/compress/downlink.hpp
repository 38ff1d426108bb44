#pragma once
// Downlink compression (--compressor-down) with primal error feedback in the style of EF21-P
// (Gruntkowska, Sokolov, Richtárik, "EF21-P and Friends", arXiv 2209.15218).
//
// The server holds x, the model the method computes, and w, the model the agents hold (w⁰ = x⁰).
// After each server step the server broadcasts one message m = C(x − w) and everybody (server and
// agents) sets w ← w + decode(m). Agents compute their gradients (gd/sgd) or start their local
// training (federated methods) from w instead of x, so the method sees gradients at w:
//   gd:  x^{t+1} = x^t − γ Σ_a p_a ∇f_a(w^t),  w^{t+1} = w^t + C(x^{t+1} − w^t).
// Contractive compressors (Top-k, sign) are used as they are; unbiased ones (Rand-k, QSGD,
// natural) are scaled by 1/(ω+1), the contractive form the uplink's error feedback uses too.
// The message length (Compressor::message_bytes) is what the method counts as logical down traffic
// per receiving agent (Traffic::add_down).
//
// The server is replicated on every rank, so the "broadcast" needs no MPI traffic: every rank holds
// the same x and w and computes the same m deterministically. Randomised compressors draw from the
// stream keyed by (seed mixed with the stream name, kServerAgent, round): a dedicated agent id that
// no agent has, so the downlink never reuses an agent's own stream, and the key does not depend on
// which rank computes it (results are bitwise identical at any rank count).
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "distopt/compress/compressor.hpp"
#include "distopt/compress/link_options.hpp"
#include "distopt/method/algorithm.hpp"

namespace distopt {

/// The compressed server-to-agent model with EF21-P primal error feedback (see above); replicated
/// on every rank.
class Downlink {
 public:
  /// The agent id of the server's stream in compression keys (no agent has it).
  static constexpr Index kServerAgent = std::numeric_limits<Index>::max();

  /// Compresses with `compressor`; `seed` is the run seed already mixed with the stream name.
  Downlink(std::unique_ptr<Compressor> compressor, std::uint64_t seed)
      : compressor_(std::move(compressor)), seed_(seed) {}

  std::string name() const { return compressor_->name(); }       ///< the compressor's spec
  const Compressor& compressor() const { return *compressor_; }  ///< the compressor
  /// Bytes of every downlink message (what each receiving agent is counted).
  std::uint64_t message_bytes() const { return compressor_->message_bytes(); }

  /// w⁰ = x⁰: the agents start from the initial model they already hold.
  void initialize(const Vector& x0) { w_ = x0; }
  /// The model the agents hold.
  const Vector& model() const { return w_; }
  /// Builds m = C(x − w) keyed by round and applies w ← w + scale·decode(m) (scale 1/(ω+1) for
  /// unbiased compressors). Returns the message length in bytes. Identical on every rank.
  /// Error if x's dimension differs from w's (initialize() first).
  std::uint64_t broadcast(const Vector& x, std::uint64_t round);

  /// Checkpoint key of w (replicated server state).
  static constexpr const char* kStateKey = "server/w_down";
  void save(StateArchive& out) const { out.put(kStateKey, w_); }  ///< Puts w under kStateKey.
  /// Restores w from kStateKey; InputError if absent or of another dimension than the model.
  void load(const StateArchive& in);

 private:
  std::unique_ptr<Compressor> compressor_;
  std::uint64_t seed_;
  Vector w_, diff_;
  std::vector<std::uint8_t> msg_;
};

/// Builds the downlink selected by --compressor-down (with --wire-precision for its values), or
/// nullptr for "none": then the method sends the model dense, exactly as without the option.
/// `stream` mixes into the seed like make_uplink's. ConfigError("compressor-down", ...) for bad
/// specs and for powersgd (not supported on the downlink).
std::unique_ptr<Downlink> make_downlink(RunContext& ctx, const DownlinkOptions& options,
                                        const std::string& stream = "down");

}  // namespace distopt
