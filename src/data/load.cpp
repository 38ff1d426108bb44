#include "distopt/data/load.hpp"

#include <algorithm>
#include <numeric>
#include <stdexcept>

#include "distopt/core/error.hpp"
#include "distopt/data/memory_budget.hpp"
#include "distopt/data/partition.hpp"
#include "distopt/data/source.hpp"

namespace distopt {

void DataSpec::validate() const {
  if (!(test_fraction >= 0.0 && test_fraction < 1.0)) {
    throw ConfigError("test-fraction",
                      "must be in [0, 1) (got " + std::to_string(test_fraction) + ")");
  }
  if (data.empty()) {
    throw ConfigError("data", "is required (known: " + source_registry().known() + ")");
  }
  partition_registry().get(split_spec(partition).kind, partition);
}

LocalData load_local(const DataSpec& spec, const Placement& placement) {
  spec.validate();
  const Index n_agents = placement.agents();
  SourceOptions so;
  so.seed = spec.seed;
  so.test_fraction = spec.test_fraction;
  so.agents = n_agents;
  so.max_memory = spec.max_memory;
  const auto src = open_source(spec.data, so);
  // Sizes any source reports (file readers check their own too, with the file's name): the
  // model, and one row list entry per source row.
  const auto fits = [&](const std::string& what, std::uint64_t count, std::uint64_t each) {
    if (auto excess = memory_excess(what, count, each, spec.max_memory)) {
      throw ConfigError("data", src->describe() + ": " + *excess);
    }
  };
  fits(std::to_string(src->n_features()) + " features (a float64 model)",
       static_cast<std::uint64_t>(src->n_features()), sizeof(double));
  fits(std::to_string(src->rows(Split::kTrain)) + " training rows (row lists)",
       static_cast<std::uint64_t>(src->rows(Split::kTrain)), sizeof(Index));

  // Training rows of the source, and the test rows (held out if the source has no test set).
  const Index n_source = src->rows(Split::kTrain);
  std::vector<Index> train_rows, test_rows;
  Split test_split = Split::kTest;
  if (src->rows(Split::kTest) > 0) {
    train_rows.resize(static_cast<std::size_t>(n_source));
    std::iota(train_rows.begin(), train_rows.end(), Index{0});
    test_rows.resize(static_cast<std::size_t>(src->rows(Split::kTest)));
    std::iota(test_rows.begin(), test_rows.end(), Index{0});
  } else {
    test_split = Split::kTrain;
    test_rows = holdout_rows(n_source, spec.test_fraction, spec.seed);
    train_rows.reserve(static_cast<std::size_t>(n_source) - test_rows.size());
    std::size_t t = 0;
    for (Index r = 0; r < n_source; ++r) {
      if (t < test_rows.size() && test_rows[t] == r) {
        ++t;
      } else {
        train_rows.push_back(r);
      }
    }
  }

  // Partition over positions in train_rows.
  PartitionInput in;
  in.samples = static_cast<Index>(train_rows.size());
  in.task = src->task();
  in.n_classes = src->n_classes();
  Vector labels;
  if (partition_needs_labels(spec.partition)) {
    const Vector all = src->labels(Split::kTrain);
    labels.resize(in.samples);
    for (Index i = 0; i < in.samples; ++i) labels[i] = all[train_rows[static_cast<std::size_t>(i)]];
    in.labels = &labels;
  }
  std::vector<Index> natural;
  if (partition_needs_natural(spec.partition)) {
    const auto all = src->natural_owner();
    if (!all.empty()) {
      natural.reserve(train_rows.size());
      for (Index r : train_rows) natural.push_back(all[static_cast<std::size_t>(r)]);
    }
    in.natural = natural;
  }
  const Partition part = make_partition(spec.partition, n_agents, spec.seed, in);

  LocalData out;
  out.task = src->task();
  out.n_features = src->n_features();
  out.n_classes = src->n_classes();
  out.total_train = in.samples;
  out.total_test = static_cast<Index>(test_rows.size());
  out.description = src->describe() + " | partition " + spec.partition + " over " +
                    std::to_string(n_agents) + " agents, seed " + std::to_string(spec.seed);
  out.agent_rows.resize(static_cast<std::size_t>(n_agents));
  for (Index a = 0; a < n_agents; ++a) out.agent_rows[static_cast<std::size_t>(a)] = part.count(a);

  // This rank's agents, agent by agent.
  out.first_agent = placement.local_first();
  std::vector<Index> mine;
  out.local_offsets.push_back(0);
  for (Index a = out.first_agent; a < out.first_agent + placement.local_count(); ++a) {
    for (Index i : part.rows(a)) mine.push_back(train_rows[static_cast<std::size_t>(i)]);
    out.local_offsets.push_back(static_cast<Index>(mine.size()));
  }
  const std::uint64_t value_bytes =
      spec.precision == Precision::kFloat32 ? sizeof(float) : sizeof(double);
  if (!src->sparse()) {
    fits("this rank's " + std::to_string(mine.size()) + " dense rows of " +
             std::to_string(src->n_features()) + " features",
         mine.size(), static_cast<std::uint64_t>(src->n_features()) * value_bytes);
  }
  out.train = src->read_rows(Split::kTrain, mine, spec.precision);

  // This rank's contiguous slice of the test rows: a 1/P share of the kTestBlockRows blocks.
  const Index T = out.total_test, P = placement.ranks(), r = placement.rank();
  const Index K = (T + kTestBlockRows - 1) / kTestBlockRows;
  const Index block_lo = r * (K / P) + std::min<Index>(r, K % P);
  const Index block_hi = block_lo + K / P + (r < K % P ? 1 : 0);
  const Index lo = std::min(T, block_lo * kTestBlockRows);
  const Index hi = std::min(T, block_hi * kTestBlockRows);
  out.test_first = lo;
  std::vector<Index> test_mine(test_rows.begin() + lo, test_rows.begin() + hi);
  if (!src->sparse()) {
    fits("this rank's " + std::to_string(test_mine.size()) + " dense test rows of " +
             std::to_string(src->n_features()) + " features",
         test_mine.size(), static_cast<std::uint64_t>(src->n_features()) * value_bytes);
  }
  out.test = src->read_rows(test_split, test_mine, spec.precision);
  return out;
}

LocalData load_data(const DataSpec& spec, const Placement& placement, Communicator& comm) {
  if (placement.ranks() != comm.size() || placement.rank() != comm.rank()) {
    throw std::invalid_argument("load_data: the placement is not for this communicator");
  }
  LocalData out;
  comm.agree_on_errors([&] { out = load_local(spec, placement); });
  return out;
}

}  // namespace distopt
