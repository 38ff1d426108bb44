#include "distopt/comm/sparse_agent_sum.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

#include "distopt/core/error.hpp"

namespace distopt {

void SparseAgentSum::reset(Index dim) {
  if (dim < 0 || static_cast<std::uint64_t>(dim) > std::numeric_limits<std::uint32_t>::max()) {
    throw Error("SparseAgentSum: dimension " + std::to_string(dim) +
                " does not fit 32-bit indices");
  }
  dim_ = dim;
  last_agent_ = -1;
  packed_.clear();
  local_.clear();
}

void SparseAgentSum::pack(std::span<const std::uint32_t> index, std::span<const double> value) {
  const auto nnz = static_cast<std::uint32_t>(index.size());
  const std::size_t off = packed_.size();
  packed_.resize(off + record_bytes(static_cast<Index>(nnz)));
  std::uint8_t* p = packed_.data() + off;
  std::memcpy(p, &nnz, sizeof nnz);
  p += sizeof nnz;
  if (nnz == 0) return;  // an empty span's data() may be null, which memcpy must not see
  std::memcpy(p, index.data(), index.size_bytes());
  p += index.size_bytes();
  std::memcpy(p, value.data(), value.size_bytes());
}

void SparseAgentSum::add(Index agent, std::span<const Index> index, std::span<const double> value,
                         double w) {
  if (agent <= last_agent_) {
    throw Error("SparseAgentSum::add: agents must be added in increasing order");
  }
  if (index.size() != value.size()) throw Error("SparseAgentSum::add: index/value size mismatch");
  last_agent_ = agent;
  index_scratch_.resize(index.size());
  value_scratch_.resize(value.size());
  Index prev = -1;
  for (std::size_t k = 0; k < index.size(); ++k) {
    const Index j = index[k];
    if (j <= prev || j >= dim_) {
      throw Error(
          "SparseAgentSum::add: indices must be strictly increasing and below the dimension");
    }
    prev = j;
    index_scratch_[k] = static_cast<std::uint32_t>(j);
    // The product w*v is formed here, on the owning rank, exactly as AgentSum forms it.
    value_scratch_[k] = w * value[k];
  }
  if (mode_ == Reduction::kOrdered) {
    pack(index_scratch_, value_scratch_);
    return;
  }
  // Sorted stably by index at finish(), so each coordinate's entries stay in agent order and the
  // merge sums them in that order.
  for (std::size_t k = 0; k < index.size(); ++k) {
    local_.emplace_back(index_scratch_[k], value_scratch_[k]);
  }
}

void SparseAgentSum::finish(Vector& out) {
  if (mode_ == Reduction::kAllreduce) {
    std::stable_sort(local_.begin(), local_.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    index_scratch_.clear();
    value_scratch_.clear();
    for (const auto& [j, v] : local_) {
      if (!index_scratch_.empty() && index_scratch_.back() == j) {
        value_scratch_.back() += v;
      } else {
        index_scratch_.push_back(j);
        value_scratch_.push_back(v);
      }
    }
    packed_.clear();
    if (last_agent_ >= 0) pack(index_scratch_, value_scratch_);
  }
  comm_.allgatherv(std::span<const std::uint8_t>(packed_), gathered_);
  out.setZero(dim_);
  for (int r = 0; r < comm_.size(); ++r) {
    const auto bytes = gathered_.from(r);
    std::size_t off = 0;
    while (off < bytes.size()) {
      std::uint32_t nnz = 0;
      std::memcpy(&nnz, bytes.data() + off, sizeof nnz);
      const std::uint8_t* idx = bytes.data() + off + sizeof nnz;
      const std::uint8_t* val = idx + static_cast<std::size_t>(nnz) * sizeof(std::uint32_t);
      for (std::uint32_t k = 0; k < nnz; ++k) {
        std::uint32_t j = 0;
        double v = 0;
        std::memcpy(&j, idx + k * sizeof(std::uint32_t), sizeof j);
        std::memcpy(&v, val + k * sizeof(double), sizeof v);
        out[static_cast<Index>(j)] += v;
      }
      off += record_bytes(static_cast<Index>(nnz));
    }
  }
}

}  // namespace distopt
