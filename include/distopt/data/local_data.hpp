#pragma once
// What one rank holds of a dataset after loading and partitioning (load.hpp): the training rows of
// its agents, stored agent after agent so that each agent's shard is one contiguous DataBlock, the
// row count of every agent (global, for weighting), and a contiguous 1/P slice of the test rows.
#include <string>
#include <vector>

#include "distopt/data/dataset.hpp"

namespace distopt {

/// Test rows are handed out to ranks in whole blocks of this many global rows (the last block may
/// be shorter), so that an evaluation with --reduction ordered can sum the test loss block by
/// block in global order and get the same bits at any rank count (method/evaluator.cpp).
inline constexpr Index kTestBlockRows = 256;

/// This rank's share of the data of a run (see the file comment); filled by load_data.
class LocalData {
 public:
  /// This rank's agents' training rows, agent by agent.
  Dataset train;
  /// This rank's slice of the test set: global test rows [test_first, test_first + test.rows()),
  /// whole blocks of kTestBlockRows (a contiguous 1/P share of the blocks).
  Dataset test;
  Index test_first = 0;  ///< global index of this rank's first test row

  Task task = Task::kRegression;  ///< what the labels mean
  Index n_features = 0;           ///< number of features d
  Index n_classes = 1;            ///< 1 for regression, 2 for binary, C for multiclass
  Index total_train = 0;          ///< training rows over all agents
  Index total_test = 0;           ///< test rows over all ranks
  /// Training rows of every agent (all N, for weighting).
  std::vector<Index> agent_rows;
  /// This rank's first agent: its agents are [first_agent, first_agent + local_agents()).
  Index first_agent = 0;
  /// Offsets of the local agents' shards in `train` (local_agents() + 1 entries).
  std::vector<Index> local_offsets;
  /// Source and partition, with defaults filled in (provenance for result files).
  std::string description;

  /// Number of agents N over all ranks.
  Index agents() const { return static_cast<Index>(agent_rows.size()); }
  /// Number of agents on this rank.
  Index local_agents() const { return static_cast<Index>(local_offsets.size()) - 1; }
  /// Whether `agent` (global id) is on this rank.
  bool is_local(Index agent) const {
    return agent >= first_agent && agent < first_agent + local_agents();
  }
  /// The shard of a local agent (global id). std::out_of_range for a remote agent.
  DataBlock shard(Index agent) const;
  /// ConfigError("batch-size") when a minibatch of `batch_size` rows (0: full batch, always
  /// fine) is larger than every agent's shard: every step would be full-batch, which is not
  /// what the user asked for. Same answer on every rank (agent_rows is global).
  void check_batch_size(Index batch_size) const;
  /// n_agent / n_total: the agent's weight in the global objective.
  double weight(Index agent) const {
    return static_cast<double>(agent_rows[static_cast<std::size_t>(agent)]) /
           static_cast<double>(total_train);
  }
};

}  // namespace distopt
