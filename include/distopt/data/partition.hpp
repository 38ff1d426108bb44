#pragma once
// Partitioners: assign every training sample to exactly one of N agents. They are deterministic
// functions of (spec, seed, labels), computed identically on every rank from the global label
// vector, so every rank knows every agent's rows without communication. Specs (option
// "partition"):
//   iid          a seeded permutation cut into N near-equal chunks (sizes differ by at most 1)
//   contiguous   agent i gets the i-th contiguous chunk of rows (EF21's experiments)
//   dirichlet:a  per class, proportions over agents drawn from Dir(a) and the class's shuffled
//                samples cut accordingly (Hsu et al. 2019; FedLab's label-Dirichlet split).
//                Small a gives skewed label mixes, large a approaches iid. An agent left empty
//                takes one random sample from the agent holding the most samples, repeated until
//                no agent is empty (instead of redrawing until a minimum size, which need not
//                terminate for small a and many agents).
//   dirichlet-prior:a  FL-Simulator's split (github woodenchild95/FL-Simulator, dataset.py, rule
//                'Dirichlet'): every agent gets a fixed number of samples (⌊n/N⌋ or ⌈n/N⌉,
//                exactly n/N when N divides n) and draws a class prior from Dir(a); each sample's
//                class is drawn from its agent's prior (restricted to the classes with samples
//                left, since a sample goes to one agent only: FL-Simulator refills an exhausted
//                class and so gives some samples to several clients).
//   shards:c     McMahan et al.'s pathological split: samples sorted by label are cut into N*c
//                shards and each agent gets c shards at random. When N*c >= the number of
//                classes, shards are cut inside classes (each class gets shards in proportion to
//                its size, at least one), so every agent sees at most c classes; otherwise (too
//                few shards to keep classes apart) shards are cut from the label-sorted order.
//   natural      the data's own split (a file's /train/owner, FedProx's clients); the number of
//                agents must equal the number of owners.
// Errors are ConfigError("partition", ...) or ConfigError("agents", ...). The kinds come from one
// table, partition_registry(), which user code can extend.
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "distopt/core/registry.hpp"
#include "distopt/data/dataset.hpp"

namespace distopt {

/// Samples grouped by agent.
class Partition {
 public:
  /// An empty partition (no agents, no samples).
  Partition() = default;
  /// Groups samples by owner; owners must lie in [0, n_agents) (std::out_of_range otherwise).
  Partition(std::vector<Index> owner, Index n_agents);

  /// Number of agents.
  Index agents() const { return static_cast<Index>(offsets_.size()) - 1; }
  /// Number of samples.
  Index samples() const { return static_cast<Index>(owner_.size()); }
  /// Agent of each sample.
  const std::vector<Index>& owner() const { return owner_; }
  /// The samples of one agent, increasing.
  std::span<const Index> rows(Index agent) const;
  /// Number of samples of one agent.
  Index count(Index agent) const { return offsets_[agent + 1] - offsets_[agent]; }
  /// Samples of every agent, in agent order (rows(0), rows(1), ...).
  const std::vector<Index>& grouped() const { return grouped_; }

 private:
  std::vector<Index> owner_, offsets_, grouped_;
};

/// Everything a partitioner may look at.
struct PartitionInput {
  Index samples = 0;  ///< number of training samples to assign
  /// Labels (needed by dirichlet and shards; see partition_needs_labels).
  const Vector* labels = nullptr;
  Task task = Task::kRegression;  ///< what the labels mean
  Index n_classes = 1;            ///< number of classes of the labels
  /// The data's own owner per sample (natural); empty if it has none.
  std::span<const Index> natural{};
};

/// What a partitioner receives: the --partition spec split at its first ':', the number of
/// agents (>= 1), the seed and the samples.
struct PartitionArgs {
  std::string spec;        ///< the whole spec, "dirichlet:0.3"
  std::string arg;         ///< the part after the first ':', "0.3" (empty without one)
  bool has_arg = false;    ///< whether the spec has a ':'
  Index n_agents = 1;      ///< agents to split over (>= 1)
  std::uint64_t seed = 0;  ///< seed of the partition's random streams
  PartitionInput input{};  ///< the samples (labels / natural owners only if the entry needs them)
};

/// A registry entry's factory: the partitioner, and what load_data must hand it.
struct PartitionFactory {
  /// Assigns every sample to an agent; ConfigError("partition", ...) or ConfigError("agents",
  /// ...) for a spec or data it cannot take.
  std::function<Partition(const PartitionArgs&)> fn;
  /// input.labels is set (load_data reads the training labels only for such entries).
  bool needs_labels = false;
  /// input.natural is set when the data have their own split.
  bool needs_natural = false;
  /// Calls fn(a).
  Partition operator()(const PartitionArgs& a) const { return fn(a); }
};
/// The registry type of --partition.
using PartitionRegistry = Registry<PartitionFactory>;

/// The --partition registry: iid, contiguous, `dirichlet:<alpha>`, `dirichlet-prior:<alpha>`,
/// `shards:<c>`, natural (in that order), then the entries user code added. Errors name the option
/// "partition".
PartitionRegistry& partition_registry();

/// The class priors of dirichlet-prior:alpha: one Dir(alpha, ..., alpha) draw over n_classes per
/// agent, from the partition's stream of `seed` (what the partitioner uses).
std::vector<std::vector<double>> dirichlet_label_priors(double alpha, Index agents, Index n_classes,
                                                        std::uint64_t seed);

/// True for the partitioners that look at labels (so callers can skip computing them).
bool partition_needs_labels(const std::string& spec);
/// True for the partitioners that look at the data's own split (natural).
bool partition_needs_natural(const std::string& spec);

/// Splits the samples over n_agents with the partitioner named by `spec` (looked up in
/// partition_registry()). ConfigError("agents", ...) if n_agents < 1, ConfigError("partition",
/// ...) for an unknown or malformed spec.
Partition make_partition(const std::string& spec, Index n_agents, std::uint64_t seed,
                         const PartitionInput& input);

/// A seeded random subset of round(fraction*n) of [0, n), increasing: the test rows held out of
/// data that has no test set.
std::vector<Index> holdout_rows(Index n, double fraction, std::uint64_t seed);

/// Class id of every label: 0..C-1 for multiclass (the label itself), 0/1 for binary (-1/+1,
/// by sign).
std::vector<Index> class_ids(const Vector& labels, Task task);

}  // namespace distopt
