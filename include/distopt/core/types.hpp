#pragma once
// Vector and matrix types shared by every layer. Data matrices are row-major so that a block of
// rows (one agent's shard, one minibatch) is contiguous in memory.
#include <Eigen/Core>
#include <Eigen/SparseCore>
#include <cstdint>

/// @namespace distopt
/// @brief Everything distopt provides: core types and errors (core/), the MPI communicator (comm/),
/// HDF5 I/O (io/), graphs (topology/), datasets (data/), objectives (model/), and the compression,
/// method and run layers built on them.
namespace distopt {

/// Signed index and size type of vectors, matrices, agents and samples (Eigen's, std::ptrdiff_t).
using Index = Eigen::Index;
/// Dense column vector of doubles: iterates, gradients, labels.
using Vector = Eigen::VectorXd;
/// Dense column-major matrix of doubles, for small dense linear algebra.
using Matrix = Eigen::MatrixXd;
/// Dense row-major matrix of doubles: a data matrix, one sample per row.
using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
/// Sparse CSR matrix of doubles with 64-bit indices: a sparse data matrix, one sample per row.
using SparseRowMatrix = Eigen::SparseMatrix<double, Eigen::RowMajor, std::int64_t>;
/// Dense row-major matrix of floats: a data matrix held at --precision float32 (Dataset), and the
/// float32 scratch of models that compute in float32 (the MLP).
using RowMatrixF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
/// Dense column vector of floats: float32 copies of parameters and gradients inside a model.
using VectorF = Eigen::VectorXf;
/// A Vector view of memory owned elsewhere (e.g. a slice of a flat parameter buffer).
using VectorMap = Eigen::Map<Vector>;
/// A read-only Vector view of memory owned elsewhere.
using ConstVectorMap = Eigen::Map<const Vector>;

}  // namespace distopt
