#include "distopt/data/partition.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "distopt/core/error.hpp"
#include "distopt/core/random.hpp"
#include "distopt/data/spec_args.hpp"

namespace distopt {

namespace {

// Steps of the partition streams RandomStream(seed, 0, step, Purpose::kPartition).
constexpr std::uint64_t kStepIid = 1, kStepDirichlet = 2, kStepShards = 3, kStepHoldout = 4,
                        kStepPriors = 5, kStepPriorDraws = 6;

/// First sample of chunk a when n samples are cut into k near-equal chunks (the larger first).
Index chunk_first(Index n, Index k, Index a) { return a * (n / k) + std::min(a, n % k); }

/// log of a Gamma(shape, 1) draw (Marsaglia & Tsang 2000; for shape < 1, the boost
/// Gamma(a) = Gamma(a+1)·U^(1/a), kept in logs because U^(1/a) underflows for small a).
double log_gamma_draw(double shape, RandomStream& rs) {
  if (shape < 1.0) return log_gamma_draw(shape + 1.0, rs) + std::log(rs.uniform_pos()) / shape;
  const double d = shape - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
  while (true) {
    const double x = rs.normal();
    double v = 1.0 + c * x;
    if (v <= 0) continue;
    v = v * v * v;
    if (std::log(rs.uniform_pos()) < 0.5 * x * x + d - d * v + d * std::log(v)) return std::log(d * v);
  }
}

/// Proportions ~ Dir(alpha, ..., alpha) over k parts.
std::vector<double> dirichlet_draw(double alpha, Index k, RandomStream& rs) {
  std::vector<double> g(static_cast<std::size_t>(k));
  for (auto& x : g) x = log_gamma_draw(alpha, rs);
  const double m = *std::max_element(g.begin(), g.end());
  double s = 0;
  for (auto& x : g) s += (x = std::exp(x - m));
  for (auto& x : g) x /= s;
  return g;
}

void check_enough(Index samples, Index agents) {
  if (agents > samples) {
    throw ConfigError("agents", std::to_string(agents) + " agents but only " +
                                    std::to_string(samples) +
                                    " training samples: every agent needs at least one");
  }
}

std::vector<Index> iid(Index n, Index agents, std::uint64_t seed) {
  std::vector<Index> perm(static_cast<std::size_t>(n));
  std::iota(perm.begin(), perm.end(), Index{0});
  RandomStream rs(seed, 0, kStepIid, Purpose::kPartition);
  rs.shuffle(perm.begin(), perm.end());
  std::vector<Index> owner(static_cast<std::size_t>(n));
  for (Index a = 0; a < agents; ++a) {
    for (Index i = chunk_first(n, agents, a); i < chunk_first(n, agents, a + 1); ++i) {
      owner[static_cast<std::size_t>(perm[static_cast<std::size_t>(i)])] = a;
    }
  }
  return owner;
}

std::vector<Index> contiguous(Index n, Index agents) {
  std::vector<Index> owner(static_cast<std::size_t>(n));
  for (Index a = 0; a < agents; ++a) {
    for (Index i = chunk_first(n, agents, a); i < chunk_first(n, agents, a + 1); ++i) {
      owner[static_cast<std::size_t>(i)] = a;
    }
  }
  return owner;
}

std::vector<Index> dirichlet(double alpha, Index agents, std::uint64_t seed,
                             const std::vector<Index>& cls, Index n_classes) {
  const Index n = static_cast<Index>(cls.size());
  RandomStream rs(seed, 0, kStepDirichlet, Purpose::kPartition);
  std::vector<Index> owner(static_cast<std::size_t>(n), 0);
  std::vector<Index> count(static_cast<std::size_t>(agents), 0);
  std::vector<Index> members;
  for (Index c = 0; c < n_classes; ++c) {
    members.clear();
    for (Index i = 0; i < n; ++i) {
      if (cls[static_cast<std::size_t>(i)] == c) members.push_back(i);
    }
    // Drawn even for an empty class, so a class's proportions do not depend on which other
    // classes happen to be present.
    const auto p = dirichlet_draw(alpha, agents, rs);
    rs.shuffle(members.begin(), members.end());
    const Index m = static_cast<Index>(members.size());
    double cum = 0;
    Index begin = 0;
    for (Index a = 0; a < agents; ++a) {
      cum += p[static_cast<std::size_t>(a)];
      const Index end = a + 1 == agents ? m : std::min(m, static_cast<Index>(std::llround(cum * static_cast<double>(m))));
      for (Index i = begin; i < end; ++i) owner[static_cast<std::size_t>(members[static_cast<std::size_t>(i)])] = a;
      count[static_cast<std::size_t>(a)] += std::max<Index>(0, end - begin);
      begin = std::max(begin, end);
    }
  }
  // No empty agent: each empty one takes a random sample of the currently largest agent.
  for (Index a = 0; a < agents; ++a) {
    if (count[static_cast<std::size_t>(a)] > 0) continue;
    const auto donor = static_cast<Index>(std::max_element(count.begin(), count.end()) - count.begin());
    Index pick = static_cast<Index>(rs.uniform_int(static_cast<std::uint64_t>(count[static_cast<std::size_t>(donor)])));
    for (Index i = 0; i < n; ++i) {
      if (owner[static_cast<std::size_t>(i)] == donor && pick-- == 0) {
        owner[static_cast<std::size_t>(i)] = a;
        break;
      }
    }
    --count[static_cast<std::size_t>(donor)];
    ++count[static_cast<std::size_t>(a)];
  }
  return owner;
}

/// FL-Simulator's label-prior split (dataset.py, rule 'Dirichlet'): client sizes near-equal,
/// then, one sample at a time, a client with room left is picked uniformly and the sample's class
/// is drawn from the client's prior restricted to the classes with samples left (FL-Simulator
/// instead refills an exhausted class, which hands the same sample to several clients); the
/// sample is the class's next one in a seeded shuffle. When the prior puts no mass on any class
/// left (zeros from underflow at tiny alpha), the class is drawn in proportion to what is left.
std::vector<Index> dirichlet_prior(double alpha, Index agents, std::uint64_t seed,
                                   const std::vector<Index>& cls, Index n_classes) {
  const Index n = static_cast<Index>(cls.size());
  const auto priors = dirichlet_label_priors(alpha, agents, n_classes, seed);
  RandomStream rs(seed, 0, kStepPriorDraws, Purpose::kPartition);
  std::vector<std::vector<Index>> members(static_cast<std::size_t>(n_classes));
  for (Index i = 0; i < n; ++i)
    members[static_cast<std::size_t>(cls[static_cast<std::size_t>(i)])].push_back(i);
  for (auto& m : members) rs.shuffle(m.begin(), m.end());
  std::vector<Index> next(static_cast<std::size_t>(n_classes), 0);  // next unused sample per class
  std::vector<Index> room(static_cast<std::size_t>(agents));
  std::vector<Index> open(static_cast<std::size_t>(agents));  // agents with room, swap-removed
  for (Index a = 0; a < agents; ++a) {
    room[static_cast<std::size_t>(a)] = chunk_first(n, agents, a + 1) - chunk_first(n, agents, a);
    open[static_cast<std::size_t>(a)] = a;
  }
  std::vector<Index> owner(static_cast<std::size_t>(n), 0);
  auto left = [&](Index c) {
    return static_cast<Index>(members[static_cast<std::size_t>(c)].size()) -
           next[static_cast<std::size_t>(c)];
  };
  for (Index k = 0; k < n; ++k) {
    const auto slot = static_cast<std::size_t>(rs.uniform_int(open.size()));
    const Index a = open[slot];
    const auto& p = priors[static_cast<std::size_t>(a)];
    double mass = 0;
    for (Index c = 0; c < n_classes; ++c) {
      if (left(c) > 0) mass += p[static_cast<std::size_t>(c)];
    }
    const bool by_prior = mass > 0;
    if (!by_prior) mass = static_cast<double>(n - k);
    double u = rs.uniform() * mass;
    Index pick = -1;
    for (Index c = 0; c < n_classes; ++c) {
      if (left(c) <= 0) continue;
      pick = c;  // the last class with samples left absorbs rounding
      u -= by_prior ? p[static_cast<std::size_t>(c)] : static_cast<double>(left(c));
      if (u < 0) break;
    }
    owner[static_cast<std::size_t>(members[static_cast<std::size_t>(pick)][static_cast<std::size_t>(
        next[static_cast<std::size_t>(pick)]++)])] = a;
    if (--room[static_cast<std::size_t>(a)] == 0) {
      open[slot] = open.back();
      open.pop_back();
    }
  }
  return owner;
}

std::vector<Index> shards(Index per_agent, Index agents, std::uint64_t seed, const Vector& labels,
                          const std::vector<Index>* cls, Index n_classes) {
  const Index n = labels.size();
  const Index S = agents * per_agent;
  if (S > n) {
    throw ConfigError("partition", "shards:" + std::to_string(per_agent) + " with " +
                                       std::to_string(agents) + " agents needs at least " +
                                       std::to_string(S) + " samples (have " + std::to_string(n) + ")");
  }
  RandomStream rs(seed, 0, kStepShards, Purpose::kPartition);
  // Samples in label order, shuffled within a label.
  std::vector<Index> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), Index{0});
  rs.shuffle(order.begin(), order.end());
  std::stable_sort(order.begin(), order.end(),
                   [&](Index a, Index b) { return labels[a] < labels[b]; });
  std::vector<std::pair<Index, Index>> pieces;  // [begin, end) in `order`
  std::vector<Index> class_size;
  if (cls) {
    class_size.assign(static_cast<std::size_t>(n_classes), 0);
    for (Index c : *cls) ++class_size[static_cast<std::size_t>(c)];
  }
  const Index present = static_cast<Index>(std::count_if(class_size.begin(), class_size.end(), [](Index s) { return s > 0; }));
  if (cls && S >= present) {
    // Class-pure shards: s_c shards for class c, in proportion to its size, at least one.
    std::vector<Index> s(static_cast<std::size_t>(n_classes), 0);
    std::vector<double> quota(static_cast<std::size_t>(n_classes), 0);
    Index total = 0;
    for (Index c = 0; c < n_classes; ++c) {
      const auto m = class_size[static_cast<std::size_t>(c)];
      if (m == 0) continue;
      quota[static_cast<std::size_t>(c)] = static_cast<double>(S) * static_cast<double>(m) / static_cast<double>(n);
      s[static_cast<std::size_t>(c)] = std::clamp<Index>(static_cast<Index>(quota[static_cast<std::size_t>(c)]), 1, m);
      total += s[static_cast<std::size_t>(c)];
    }
    while (total != S) {
      // Largest-remainder adjustment, respecting 1 <= s_c <= |class c|.
      Index best = -1;
      double best_gap = 0;
      for (Index c = 0; c < n_classes; ++c) {
        const auto m = class_size[static_cast<std::size_t>(c)];
        const auto sc = s[static_cast<std::size_t>(c)];
        const double gap = quota[static_cast<std::size_t>(c)] - static_cast<double>(sc);
        const bool can = total < S ? (m > 0 && sc < m) : sc > 1;
        if (can && (best < 0 || (total < S ? gap > best_gap : gap < best_gap))) {
          best = c;
          best_gap = gap;
        }
      }
      s[static_cast<std::size_t>(best)] += total < S ? 1 : -1;
      total += total < S ? 1 : -1;
    }
    Index begin = 0;
    for (Index c = 0; c < n_classes; ++c) {
      const auto m = class_size[static_cast<std::size_t>(c)];
      const auto sc = s[static_cast<std::size_t>(c)];
      for (Index k = 0; k < sc; ++k) {
        pieces.emplace_back(begin + chunk_first(m, sc, k), begin + chunk_first(m, sc, k + 1));
      }
      begin += m;
    }
  } else {
    for (Index k = 0; k < S; ++k) pieces.emplace_back(chunk_first(n, S, k), chunk_first(n, S, k + 1));
  }
  rs.shuffle(pieces.begin(), pieces.end());
  std::vector<Index> owner(static_cast<std::size_t>(n));
  for (Index k = 0; k < S; ++k) {
    const auto [b, e] = pieces[static_cast<std::size_t>(k)];
    for (Index i = b; i < e; ++i) owner[static_cast<std::size_t>(order[static_cast<std::size_t>(i)])] = k / per_agent;
  }
  return owner;
}

}  // namespace

Partition::Partition(std::vector<Index> owner, Index n_agents) : owner_(std::move(owner)) {
  offsets_.assign(static_cast<std::size_t>(n_agents) + 1, 0);
  for (Index a : owner_) {
    if (a < 0 || a >= n_agents) throw std::out_of_range("Partition: owner outside [0, agents)");
    ++offsets_[static_cast<std::size_t>(a) + 1];
  }
  std::partial_sum(offsets_.begin(), offsets_.end(), offsets_.begin());
  grouped_.resize(owner_.size());
  std::vector<Index> next(offsets_.begin(), offsets_.end() - 1);
  for (Index i = 0; i < static_cast<Index>(owner_.size()); ++i) {
    grouped_[static_cast<std::size_t>(next[static_cast<std::size_t>(owner_[static_cast<std::size_t>(i)])]++)] = i;
  }
}

std::span<const Index> Partition::rows(Index agent) const {
  return {grouped_.data() + offsets_[static_cast<std::size_t>(agent)],
          static_cast<std::size_t>(count(agent))};
}

std::vector<Index> class_ids(const Vector& labels, Task task) {
  std::vector<Index> c(static_cast<std::size_t>(labels.size()));
  for (Index i = 0; i < labels.size(); ++i) {
    c[static_cast<std::size_t>(i)] = task == Task::kBinary ? (labels[i] > 0 ? 1 : 0) : static_cast<Index>(labels[i]);
  }
  return c;
}

std::vector<std::vector<double>> dirichlet_label_priors(double alpha, Index agents, Index n_classes,
                                                        std::uint64_t seed) {
  RandomStream rs(seed, 0, kStepPriors, Purpose::kPartition);
  std::vector<std::vector<double>> p;
  p.reserve(static_cast<std::size_t>(agents));
  for (Index a = 0; a < agents; ++a) p.push_back(dirichlet_draw(alpha, n_classes, rs));
  return p;
}

namespace {

/// Throws unless the labels were handed over (a registry entry with needs_labels).
void need_labels(const PartitionArgs& a, const std::string& kind) {
  if (!a.input.labels || a.input.labels->size() != a.input.samples) {
    throw std::invalid_argument("make_partition: '" + kind + "' needs the labels");
  }
}

void no_arg(const PartitionArgs& a, const std::string& kind) {
  if (!a.arg.empty()) {
    throw ConfigError("partition", "'" + kind + "' takes no argument (got '" + a.spec + "')");
  }
}

Partition iid_partition(const PartitionArgs& a) {
  no_arg(a, "iid");
  check_enough(a.input.samples, a.n_agents);
  return Partition(iid(a.input.samples, a.n_agents, a.seed), a.n_agents);
}

Partition contiguous_partition(const PartitionArgs& a) {
  no_arg(a, "contiguous");
  check_enough(a.input.samples, a.n_agents);
  return Partition(contiguous(a.input.samples, a.n_agents), a.n_agents);
}

Partition dirichlet_partition(const PartitionArgs& a) {
  const auto& in = a.input;
  SpecArgs s("partition", "dirichlet", a.arg.empty() ? "" : "alpha=" + a.arg);
  if (a.arg.empty()) s.fail("needs a concentration, e.g. dirichlet:0.5");
  const double alpha = s.number_in("alpha", 0.0, 0.0, HUGE_VAL, true);
  if (in.task == Task::kRegression) {
    throw ConfigError("partition", "dirichlet needs class labels; the data are regression");
  }
  need_labels(a, "dirichlet");
  check_enough(in.samples, a.n_agents);
  return Partition(
      dirichlet(alpha, a.n_agents, a.seed, class_ids(*in.labels, in.task), in.n_classes),
      a.n_agents);
}

Partition dirichlet_prior_partition(const PartitionArgs& a) {
  const auto& in = a.input;
  SpecArgs s("partition", "dirichlet-prior", a.arg.empty() ? "" : "alpha=" + a.arg);
  if (a.arg.empty()) s.fail("needs a concentration, e.g. dirichlet-prior:0.3");
  const double alpha = s.number_in("alpha", 0.0, 0.0, HUGE_VAL, true);
  if (in.task == Task::kRegression) {
    throw ConfigError("partition", "dirichlet-prior needs class labels; the data are regression");
  }
  need_labels(a, "dirichlet-prior");
  check_enough(in.samples, a.n_agents);
  return Partition(
      dirichlet_prior(alpha, a.n_agents, a.seed, class_ids(*in.labels, in.task), in.n_classes),
      a.n_agents);
}

Partition shards_partition(const PartitionArgs& a) {
  const auto& in = a.input;
  SpecArgs s("partition", "shards", a.arg.empty() ? "" : "c=" + a.arg);
  if (a.arg.empty()) s.fail("needs the number of shards per agent, e.g. shards:2");
  const Index c = s.integer("c", 1, 1);
  need_labels(a, "shards");
  if (in.task == Task::kRegression) {
    return Partition(shards(c, a.n_agents, a.seed, *in.labels, nullptr, 0), a.n_agents);
  }
  const auto cls = class_ids(*in.labels, in.task);
  return Partition(shards(c, a.n_agents, a.seed, *in.labels, &cls, in.n_classes), a.n_agents);
}

Partition natural_partition(const PartitionArgs& a) {
  const auto& in = a.input;
  const Index n_agents = a.n_agents;
  no_arg(a, "natural");
  if (in.natural.empty()) {
    throw ConfigError("partition",
                      "natural needs data with its own split (a file with "
                      "/train/owner, or synthetic:fedprox)");
  }
  if (static_cast<Index>(in.natural.size()) != in.samples) {
    throw std::invalid_argument("make_partition: one natural owner per sample");
  }
  const Index owners = *std::max_element(in.natural.begin(), in.natural.end()) + 1;
  if (owners != n_agents) {
    throw ConfigError("agents", "the data's natural split has " + std::to_string(owners) +
                                    " agents; --agents must be " + std::to_string(owners) +
                                    " (got " + std::to_string(n_agents) + ")");
  }
  Partition p(std::vector<Index>(in.natural.begin(), in.natural.end()), n_agents);
  for (Index agent = 0; agent < n_agents; ++agent) {
    if (p.count(agent) == 0) {
      throw ConfigError("partition", "agent " + std::to_string(agent) +
                                         " owns no training sample in the natural split");
    }
  }
  return p;
}

}  // namespace

PartitionRegistry& partition_registry() {
  static PartitionRegistry r = [] {
    PartitionRegistry reg("partition", "partition");
    reg.add({"iid", "iid", "seeded permutation cut into near-equal chunks", {iid_partition}});
    reg.add({"contiguous",
             "contiguous",
             "agent i gets the i-th contiguous chunk of rows",
             {contiguous_partition}});
    reg.add({"dirichlet",
             "dirichlet:<alpha>",
             "per-class proportions over agents ~ Dir(alpha)",
             {dirichlet_partition, true}});
    reg.add({"dirichlet-prior",
             "dirichlet-prior:<alpha>",
             "each agent draws a class prior ~ Dir(alpha) and N/agents samples from it "
             "(FL-Simulator)",
             {dirichlet_prior_partition, true}});
    reg.add({"shards",
             "shards:<c>",
             "label-sorted shards, c per agent (McMahan et al.)",
             {shards_partition, true}});
    reg.add({"natural",
             "natural",
             "the data's own split (file /train/owner, synthetic:fedprox)",
             {natural_partition, false, true}});
    return reg;
  }();
  return r;
}

bool partition_needs_labels(const std::string& spec) {
  const auto* e = partition_registry().find(split_spec(spec).kind);
  return e && e->make.needs_labels;
}

bool partition_needs_natural(const std::string& spec) {
  const auto* e = partition_registry().find(split_spec(spec).kind);
  return e && e->make.needs_natural;
}

Partition make_partition(const std::string& spec, Index n_agents, std::uint64_t seed,
                         const PartitionInput& in) {
  if (n_agents < 1) throw ConfigError("agents", "must be at least 1");
  const auto parts = split_spec(spec);
  const auto& entry = partition_registry().get(parts.kind, spec);
  PartitionArgs args;
  args.spec = spec;
  args.arg = parts.arg;
  args.has_arg = parts.has_arg;
  args.n_agents = n_agents;
  args.seed = seed;
  args.input = in;
  return entry.make(args);
}

std::vector<Index> holdout_rows(Index n, double fraction, std::uint64_t seed) {
  const Index k = static_cast<Index>(std::llround(fraction * static_cast<double>(n)));
  RandomStream rs(seed, 0, kStepHoldout, Purpose::kPartition);
  return rs.sample_without_replacement(n, k);
}

}  // namespace distopt
