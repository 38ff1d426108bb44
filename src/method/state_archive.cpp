#include "distopt/method/state_archive.hpp"

#include <cstring>

#include "distopt/core/error.hpp"

namespace distopt {

void StateArchive::put(const std::string& key, const Eigen::Ref<const Vector>& v) {
  doubles_[key].assign(v.data(), v.data() + v.size());
}
void StateArchive::put(const std::string& key, std::vector<double> v) {
  doubles_[key] = std::move(v);
}
void StateArchive::put_u64(const std::string& key, std::vector<std::uint64_t> v) {
  counts_[key] = std::move(v);
}

bool StateArchive::has(const std::string& key) const {
  return doubles_.count(key) > 0 || counts_.count(key) > 0;
}

const std::vector<double>& StateArchive::get_doubles(const std::string& key) const {
  auto it = doubles_.find(key);
  if (it == doubles_.end()) throw InputError("checkpoint: missing state '" + key + "'");
  return it->second;
}

Vector StateArchive::get_vector(const std::string& key) const {
  const auto& d = get_doubles(key);
  return Eigen::Map<const Vector>(d.data(), static_cast<Index>(d.size()));
}

const std::vector<std::uint64_t>& StateArchive::get_u64(const std::string& key) const {
  auto it = counts_.find(key);
  if (it == counts_.end()) throw InputError("checkpoint: missing state '" + key + "'");
  return it->second;
}

double StateArchive::get_scalar(const std::string& key) const {
  const auto& d = get_doubles(key);
  if (d.size() != 1) throw InputError("checkpoint: state '" + key + "' is not a scalar");
  return d[0];
}

std::uint64_t StateArchive::get_count(const std::string& key) const {
  const auto& d = get_u64(key);
  if (d.size() != 1) throw InputError("checkpoint: state '" + key + "' is not a scalar");
  return d[0];
}

std::string StateArchive::agent_key(Index agent, const std::string& name) {
  return "agent/" + std::to_string(agent) + "/" + name;
}

namespace {
template <class T>
void append_raw(std::vector<std::uint8_t>& out, const T* p, std::size_t n) {
  if (n == 0) return;  // p may be null (an empty vector's data()): memcpy must not see it
  const auto off = out.size();
  out.resize(off + n * sizeof(T));
  std::memcpy(out.data() + off, p, n * sizeof(T));
}
template <class T>
T read_raw(std::span<const std::uint8_t>& in) {
  if (in.size() < sizeof(T)) throw Error("StateArchive: truncated buffer");
  T v;
  std::memcpy(&v, in.data(), sizeof(T));
  in = in.subspan(sizeof(T));
  return v;
}
template <class Map>
void write_map(std::vector<std::uint8_t>& out, const Map& m) {
  const std::uint64_t n = m.size();
  append_raw(out, &n, 1);
  for (const auto& [k, v] : m) {
    const std::uint64_t kl = k.size(), vl = v.size();
    append_raw(out, &kl, 1);
    append_raw(out, k.data(), k.size());
    append_raw(out, &vl, 1);
    append_raw(out, v.data(), v.size());
  }
}
template <class T>
void read_map(std::span<const std::uint8_t>& in, std::map<std::string, std::vector<T>>& m) {
  const auto n = read_raw<std::uint64_t>(in);
  for (std::uint64_t i = 0; i < n; ++i) {
    const auto kl = read_raw<std::uint64_t>(in);
    if (in.size() < kl) throw Error("StateArchive: truncated buffer");
    std::string k(reinterpret_cast<const char*>(in.data()), kl);
    in = in.subspan(kl);
    const auto vl = read_raw<std::uint64_t>(in);
    if (vl > in.size() / sizeof(T)) throw Error("StateArchive: truncated buffer");  // no overflow
    std::vector<T> v(vl);
    if (vl > 0) std::memcpy(v.data(), in.data(), vl * sizeof(T));  // an empty v's data() may be null
    in = in.subspan(vl * sizeof(T));
    m.emplace(std::move(k), std::move(v));
  }
}
}  // namespace

std::vector<std::uint8_t> StateArchive::serialize() const {
  std::vector<std::uint8_t> out;
  write_map(out, doubles_);
  write_map(out, counts_);
  return out;
}

StateArchive StateArchive::deserialize(std::span<const std::uint8_t> bytes) {
  StateArchive a;
  read_map(bytes, a.doubles_);
  read_map(bytes, a.counts_);
  return a;
}

void StateArchive::merge(const StateArchive& other) {
  for (const auto& [k, v] : other.doubles_) doubles_.emplace(k, v);
  for (const auto& [k, v] : other.counts_) counts_.emplace(k, v);
}

}  // namespace distopt
