#include "distopt/data/local_data.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "distopt/core/error.hpp"

namespace distopt {

DataBlock LocalData::shard(Index agent) const {
  if (!is_local(agent)) {
    throw std::out_of_range("LocalData::shard: agent " + std::to_string(agent) +
                            " is not on this rank");
  }
  const auto i = static_cast<std::size_t>(agent - first_agent);
  return train.block(local_offsets[i], local_offsets[i + 1] - local_offsets[i]);
}

void LocalData::check_batch_size(Index batch_size) const {
  if (batch_size <= 0 || agent_rows.empty()) return;
  const Index largest = *std::max_element(agent_rows.begin(), agent_rows.end());
  if (batch_size > largest) {
    throw ConfigError("batch-size",
                      std::to_string(batch_size) + " rows is more than the largest shard (" +
                          std::to_string(largest) + " rows over " + std::to_string(agents()) +
                          " agents); use 0 for full batch or a smaller size");
  }
}

}  // namespace distopt
