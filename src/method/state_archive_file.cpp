// Checkpoint files: the archives of every rank are gathered on rank 0, merged and written as one
// HDF5 file, /state/<key> per entry (float64 for values, int64 for counts), under a temporary name
// renamed when complete, so an interrupted write never leaves a truncated checkpoint.
#include <cstdio>
#include <cstring>

#include "distopt/comm/communicator.hpp"
#include "distopt/core/error.hpp"
#include "distopt/core/strings.hpp"
#include "distopt/io/hdf5.hpp"
#include "distopt/method/state_archive.hpp"

namespace distopt {

namespace {
constexpr const char* kEmptyKeys = "empty_value_keys";

/// The group holding key "a/b/c" (created as needed) and the leaf name "c".
std::pair<h5::Group, std::string> parent_of(h5::Group& root, const std::string& key) {
  const auto slash = key.rfind('/');
  if (slash == std::string::npos) return {root, key};
  return {root.create_group(key.substr(0, slash)), key.substr(slash + 1)};
}

void read_tree(const h5::Group& g, const std::string& prefix, StateArchive& a) {
  for (const auto& child : g.children()) {
    const std::string key = prefix.empty() ? child : prefix + "/" + child;
    if (g.is_group(child)) {
      read_tree(g.group(child), key, a);
      continue;
    }
    const auto arr = g.array(child);
    if (arr.type() == h5::Type::kInt64 || arr.type() == h5::Type::kInt32) {
      const auto v = arr.read_ints();
      a.put_u64(key, std::vector<std::uint64_t>(v.begin(), v.end()));
    } else {
      a.put(key, arr.read_doubles());
    }
  }
}
}  // namespace

void StateArchive::save(Communicator& comm, const std::string& path) const {
  const auto mine = serialize();
  const auto all = comm.gatherv(mine, 0);
  // Sizes of every rank's archive, to split the gathered bytes on rank 0.
  GatheredBytes sizes;
  const std::uint64_t n = mine.size();
  comm.allgatherv(
      std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(&n), sizeof n), sizes);
  comm.agree_on_errors([&] {
    if (!comm.is_root()) return;
    StateArchive merged;
    std::size_t off = 0;
    for (int r = 0; r < comm.size(); ++r) {
      std::uint64_t len = 0;
      std::memcpy(&len, sizes.from(r).data(), sizeof len);
      merged.merge(deserialize(std::span<const std::uint8_t>(all.data() + off, len)));
      off += len;
    }
    auto f = h5::File::create(path);
    auto state = f.create_group("state");
    std::string empty;
    for (const auto& [k, v] : merged.doubles_) {
      if (v.empty()) {
        empty += k + "\n";
        continue;
      }
      auto [g, leaf] = parent_of(state, k);
      g.write(leaf, std::span<const double>(v));
    }
    for (const auto& [k, v] : merged.counts_) {
      std::vector<std::int64_t> s(v.begin(), v.end());
      auto [g, leaf] = parent_of(state, k);
      g.write(leaf, std::span<const std::int64_t>(s));
    }
    state.set_attr(kEmptyKeys, empty);
    f.set_attr("kind", "distopt-checkpoint");
    f.commit();
  });
}

StateArchive StateArchive::load(const std::string& path) {
  auto f = h5::File::open(path);
  if (!f.has_attr("kind") || f.attr_string("kind") != "distopt-checkpoint" ||
      !f.is_group("state")) {
    throw FileError(path, "not a distopt checkpoint (no /state group)");
  }
  StateArchive a;
  const auto state = f.group("state");
  read_tree(state, "", a);
  if (state.has_attr(kEmptyKeys)) {
    for (const auto& k : split_nonempty(state.attr_string(kEmptyKeys), '\n'))
      a.put(k, std::vector<double>{});
  }
  return a;
}

}  // namespace distopt
