#pragma once
// Walks a DataBlock in chunks of consecutive rows and hands each chunk to a generic callable as an
// Eigen expression (a dense row-major block or a CSR row block). Every built-in model computes its
// loss and gradient this way, and a user objective that does the same gets the same memory traffic
// (and, for the same arithmetic, the same bits) as the built-ins.
//
// Why chunks: a gradient of a linear model needs two products with the same rows, z = X_c x and
// g += X_cᵀ r. Done over the whole block, each product streams X from memory (two passes); done
// chunk by chunk, the second product finds the chunk still in L2, so X crosses the memory bus
// once. The same trick bounds the scratch of softmax/MLP activations by the chunk size.
//
// Precision: for_each_chunk hands float64 rows, as it always has, so an objective written against
// it compiles and computes as before. On float32 data (--precision float32) it widens each chunk
// into a per-thread float64 scratch: correct, at the cost of one conversion per chunk per call.
// Models that compute in float32 (the MLP) use for_each_chunk_f32 instead, which hands the stored
// float32 rows themselves, converting nothing.
#include <algorithm>
#include <stdexcept>

#include "distopt/data/dataset.hpp"

/// @namespace distopt::chunks
/// @brief Cache-sized row chunking of a DataBlock, used by every built-in objective.
namespace distopt::chunks {

/// Target size of one dense chunk: comfortably inside a 1 MiB L2 with room for x, g and scratch.
inline constexpr Index kChunkBytes = 256 * 1024;

/// Rows per chunk for dense rows of `cols` doubles (at least 16, at most 4096).
inline Index dense_chunk_rows(Index cols) {
  const Index per_row = static_cast<Index>(sizeof(double)) * std::max<Index>(cols, 1);
  return std::clamp<Index>(kChunkBytes / per_row, 16, 4096);
}

/// Rows per chunk for CSR rows: by the average number of stored entries per row (value + index).
inline Index sparse_chunk_rows(const DataBlock& rows) {
  if (rows.rows() == 0) return 1;
  const auto& A = rows.dataset().csr();
  const auto* outer = A.outerIndexPtr();
  const auto nnz = outer[rows.begin() + rows.rows()] - outer[rows.begin()];
  const Index per_row = std::max<Index>(1, static_cast<Index>(nnz) / rows.rows()) * 16;
  return std::clamp<Index>(kChunkBytes / per_row, 16, 4096);
}

/// Calls f(first, Xc) for consecutive chunks of at most `max_rows` rows (0: the default size for
/// the storage), where `first` is the chunk's first row relative to the block and Xc the rows as
/// an Eigen expression (dense: Block<const RowMatrix>; sparse: row block of a SparseRowMatrix).
/// On float32 data each chunk is widened to float64 first (see the file comment).
template <class F>
void for_each_chunk(const DataBlock& rows, Index max_rows, F&& f) {
  const Index n = rows.rows();
  if (n == 0) return;
  if (rows.precision() == Precision::kFloat32) {
    const auto& A = rows.dataset().dense_f32();
    const Index step = max_rows > 0 ? max_rows : dense_chunk_rows(A.cols());
    thread_local RowMatrix wide;
    for (Index s = 0; s < n; s += step) {
      const Index c = std::min(step, n - s);
      if (wide.rows() != c || wide.cols() != A.cols()) wide.resize(c, A.cols());
      wide = A.middleRows(rows.begin() + s, c).template cast<double>();
      const RowMatrix& W = wide;
      f(s, W.middleRows(0, c));
    }
    return;
  }
  if (rows.sparse()) {
    const auto& A = rows.dataset().csr();
    const Index step = max_rows > 0 ? max_rows : sparse_chunk_rows(rows);
    for (Index s = 0; s < n; s += step) {
      const Index c = std::min(step, n - s);
      f(s, A.middleRows(rows.begin() + s, c));
    }
  } else {
    const auto& A = rows.dataset().dense();
    const Index step = max_rows > 0 ? max_rows : dense_chunk_rows(A.cols());
    for (Index s = 0; s < n; s += step) {
      const Index c = std::min(step, n - s);
      f(s, A.middleRows(rows.begin() + s, c));
    }
  }
}

/// Calls f(first, Xc) as for_each_chunk, on float32 data (precision() == kFloat32; anything else
/// is a std::logic_error), with Xc a Block<const RowMatrixF> of the stored rows: no conversion.
template <class F>
void for_each_chunk_f32(const DataBlock& rows, Index max_rows, F&& f) {
  const Index n = rows.rows();
  if (n == 0) return;
  if (rows.precision() != Precision::kFloat32) {
    throw std::logic_error("for_each_chunk_f32: the rows are not float32");
  }
  const auto& A = rows.dataset().dense_f32();
  const Index step = max_rows > 0 ? max_rows : dense_chunk_rows(A.cols());
  for (Index s = 0; s < n; s += step) {
    const Index c = std::min(step, n - s);
    f(s, A.middleRows(rows.begin() + s, c));
  }
}

/// Largest chunk for_each_chunk will produce for these rows: the size of per-row scratch.
inline Index max_chunk_rows(const DataBlock& rows, Index max_rows) {
  if (max_rows > 0) return std::min(max_rows, rows.rows());
  const Index step = rows.sparse() ? sparse_chunk_rows(rows) : dense_chunk_rows(rows.cols());
  return std::min(step, rows.rows());
}

/// Grows a scratch vector to at least n entries (never shrinks: no reallocation once warm).
inline void reserve_rows(Vector& v, Index n) {
  if (v.size() < n) v.resize(n);
}
/// Grows a scratch matrix to at least n rows of `cols` columns (reallocates only when it has too
/// few rows or another width).
template <class M>
inline void reserve_rows(M& m, Index n, Index cols) {
  if (m.rows() < n || m.cols() != cols) m.resize(std::max(n, m.rows()), cols);
}

}  // namespace distopt::chunks
