#include "distopt/compress/compressed_uplink.hpp"

#include <cstring>

#include "distopt/compress/identity.hpp"
#include "distopt/core/error.hpp"

namespace distopt {

namespace {
constexpr std::uint8_t kCompressed = 0;
constexpr std::uint8_t kDense = 1;
}  // namespace

CompressedUplink::CompressedUplink(Communicator& comm, Reduction reduction,
                                   const Placement& placement, Index dim,
                                   CompressedUplinkOptions options)
    : comm_(comm),
      memory_sum_(comm, reduction),
      placement_(placement),
      n_agents_(placement.agents()),
      opt_(std::move(options)),
      feedback_(&feedback_mechanism(opt_.feedback)) {
  if (feedback_->smoothness_weights &&
      opt_.ef21w_weights.size() != static_cast<std::size_t>(n_agents_)) {
    throw Error("CompressedUplink: ef21w needs one weight per agent");
  }
  if (!(opt_.econtrol_eta >= 0.0)) {
    throw ConfigError("econtrol-eta", "must be non-negative");
  }
  begin(dim);  // builds the compressor (validates the spec against d)
  step_ = 0;
}

std::unique_ptr<AgentFeedback> CompressedUplink::make_state() const {
  UplinkOptions o;
  o.compressor = opt_.compressor;
  o.feedback = opt_.feedback;
  o.precision = opt_.precision;
  o.econtrol_eta = opt_.econtrol_eta;
  o.econtrol_init_gradient = opt_.econtrol_init_gradient;
  return feedback_->make_state(dim_, o);
}

std::string CompressedUplink::name() const {
  std::string n = compressor_->name();
  if (!feedback_->stateless()) n.append("+").append(opt_.feedback);
  return n;
}

void CompressedUplink::begin(Index dim) {
  if (!compressor_ || dim != dim_) {
    if (!states_.empty()) throw Error("CompressedUplink: the dimension changed while agents hold state");
    compressor_ = make_compressor(opt_.compressor, dim, opt_.precision, "compressor");
    dense_ = std::make_unique<Identity>(dim, opt_.precision);
    dim_ = dim;
    tracked_.setZero(dim);
  }
  ++step_;
  pack_.clear();
  local_submitters_.clear();
}

void CompressedUplink::submit(Index agent, const Eigen::Ref<const Vector>& v, double weight) {
  if (v.size() != dim_) throw Error("CompressedUplink::submit: dimension mismatch");
  if (!local_submitters_.empty() && agent <= local_submitters_.back().first) {
    throw Error("CompressedUplink::submit: agents must be submitted in increasing order");
  }
  // Target and server weight (EF21-W rescales, see the header).
  double s = weight;
  if (feedback_->smoothness_weights) {
    s = opt_.ef21w_weights[static_cast<std::size_t>(agent)];
    t_ = (weight / s) * v;
  } else if (!feedback_->stateless()) {
    t_ = v;
  }
  AgentFeedback* state = nullptr;
  if (!feedback_->stateless()) {
    auto& slot = states_[agent];
    if (!slot) slot = make_state();
    state = slot.get();
  }
  bool dense = false;
  if (state) dense = state->prepare(t_, u_);
  // Without feedback the agent's vector is encoded as it is (no copy).
  const Eigen::Ref<const Vector> to_send = state ? Eigen::Ref<const Vector>(u_) : v;
  // Encode, and decode our own message exactly as the server will.
  const CompressKey k = key(agent);
  ByteWriter w(pack_);
  w.u64(static_cast<std::uint64_t>(agent));
  w.f64(s);
  w.u8(dense ? kDense : kCompressed);
  const auto len_at = pack_.size();
  w.u64(0);
  const auto msg_at = pack_.size();
  Compressor& codec = dense ? *dense_ : *compressor_;
  codec.encode(to_send, k, pack_);
  const std::uint64_t len = pack_.size() - msg_at;
  std::memcpy(pack_.data() + len_at, &len, sizeof(len));
  comm_.traffic().add_up(agent, len);
  if (state) {
    const double cs = dense ? 1.0 : compressor_->contractive_scale();
    c_.setZero(dim_);
    codec.decode_add(std::span<const std::uint8_t>(pack_.data() + msg_at, len), k, cs, c_);
    state->commit(t_, u_, c_);
  }
  local_submitters_.emplace_back(agent, s);
}

void CompressedUplink::finish(Vector& estimate) {
  comm_.allgatherv(pack_, gathered_);
  struct Record {
    Index agent;
    double s;
    bool dense;
    std::span<const std::uint8_t> msg;
  };
  std::vector<Record> records;
  ByteReader r(gathered_.data);
  while (r.remaining() > 0) {
    Record rec;
    rec.agent = static_cast<Index>(r.u64());
    rec.s = r.f64();
    rec.dense = r.u8() == kDense;
    rec.msg = r.bytes(static_cast<std::size_t>(r.u64()));
    if (!records.empty() && rec.agent <= records.back().agent) {
      throw Error("CompressedUplink: records out of agent order");
    }
    records.push_back(rec);
  }
  const double cs = feedback_->stateless() ? 1.0 : compressor_->contractive_scale();
  auto decode_into = [&](const Record& rec, Vector& out) {
    const Compressor& codec = rec.dense ? *dense_ : *compressor_;
    codec.decode_add(rec.msg, key(rec.agent), rec.s * (rec.dense ? 1.0 : cs), out);
  };

  if (!feedback_->server_tracks) {
    estimate.setZero(dim_);
    for (const auto& rec : records) decode_into(rec, estimate);
    return;
  }
  const bool full = static_cast<Index>(records.size()) == n_agents_;
  bool same_weights = tracked_w_.empty();
  if (full && !same_weights) {
    same_weights = true;
    for (std::size_t i = 0; i < records.size(); ++i) same_weights &= records[i].s == tracked_w_[i];
  }
  std::vector<double> weights;
  weights.reserve(records.size());
  for (const auto& rec : records) weights.push_back(rec.s);
  if (full && tracked_valid_ && same_weights) {
    // G ← G + Σ_a s_a c_a, in agent order on every rank (EF21 Alg. 1 server step).
    for (const auto& rec : records) decode_into(rec, tracked_);
    tracked_w_ = std::move(weights);
    estimate = tracked_;
    return;
  }
  // The server's memories of the submitting agents, summed (see "Partial participation").
  memory_sum_.reset(dim_);
  for (const auto& [agent, s] : local_submitters_) {
    memory_sum_.add(agent, *states_.at(agent)->server_memory(), s);
  }
  memory_sum_.finish(estimate);
  if (full) {
    tracked_ = estimate;
    tracked_w_ = std::move(weights);
    tracked_valid_ = true;
  } else {
    tracked_valid_ = false;
  }
}

void CompressedUplink::save(StateArchive& out, const std::string& prefix) const {
  out.put_count(prefix + "/step", step_);
  for (const auto& [agent, state] : states_) state->save(out, agent, prefix);
  if (feedback_->server_tracks) {
    out.put(prefix + "/server_sum", tracked_);
    if (!tracked_w_.empty()) out.put(prefix + "/server_weights", tracked_w_);
    out.put_count(prefix + "/server_valid", tracked_valid_ ? 1 : 0);
  }
}

void CompressedUplink::load(const StateArchive& in, const std::string& prefix) {
  step_ = in.get_count(prefix + "/step");
  // Agent states exist for the agents that had submitted; they belong to whichever rank owns
  // the agent now, so every key of the form agent/<id>/<prefix>/... is examined.
  states_.clear();
  const std::string probe = "/" + prefix + "/";
  auto visit = [&](const std::string& key) {
    if (key.rfind("agent/", 0) != 0) return;
    const auto slash = key.find('/', 6);
    if (slash == std::string::npos || key.compare(slash, probe.size(), probe) != 0) return;
    const Index agent = std::stoll(key.substr(6, slash - 6));
    if (!placement_.is_local(agent) || states_.count(agent)) return;
    auto st = make_state();
    if (!st) return;
    st->load(in, agent, prefix);
    states_[agent] = std::move(st);
  };
  for (const auto& [key, v] : in.doubles()) visit(key);
  for (const auto& [key, v] : in.counts()) visit(key);
  if (feedback_->server_tracks) {
    tracked_ = in.get_vector(prefix + "/server_sum");
    tracked_w_.clear();
    if (in.has(prefix + "/server_weights")) tracked_w_ = in.get_doubles(prefix + "/server_weights");
    tracked_valid_ = in.get_count(prefix + "/server_valid") != 0;
  }
}

}  // namespace distopt
