#pragma once
// Names and shapes of the blocks of a flat parameter vector, so that methods which care about
// structure (PowerSGD compresses matrix-shaped blocks) can see it without knowing the model.
#include <string>
#include <vector>

#include "distopt/core/types.hpp"

namespace distopt {

/// One named block of the flat parameter vector: a vector (cols == 1) or a row-major matrix.
struct ParameterBlock {
  std::string name;  ///< e.g. "W1", "b1"
  Index offset = 0;  ///< first coordinate in the flat vector
  Index rows = 0;    ///< number of rows (a vector block has cols == 1)
  Index cols = 1;    ///< number of columns
  /// Number of coordinates, rows * cols.
  Index size() const { return rows * cols; }
  /// Whether the block is a genuine matrix (more than one row and column), as PowerSGD needs.
  bool is_matrix() const { return rows > 1 && cols > 1; }
};

/// The blocks of a model's flat parameter vector, in order and without gaps.
class ParameterLayout {
 public:
  /// Appends a block after the last one; returns its offset.
  Index add(std::string name, Index rows, Index cols = 1);
  /// The blocks, in the order added.
  const std::vector<ParameterBlock>& blocks() const { return blocks_; }
  /// Dimension of the flat vector: the sum of the block sizes.
  Index size() const { return size_; }
  /// Matrix blocks are stored row-major in the flat vector: element (r, c) at offset + r*cols + c.
  /// NOTE for implementers: use block_matrix() views rather than computing offsets by hand.
  /// A writable rows × cols view of block `b` of `x` (std::out_of_range for a bad b).
  Eigen::Map<RowMatrix> block_matrix(Vector& x, std::size_t b) const;
  /// A read-only rows × cols view of block `b` of `x`.
  Eigen::Map<const RowMatrix> block_matrix(const Vector& x, std::size_t b) const;

 private:
  std::vector<ParameterBlock> blocks_;
  Index size_ = 0;
};

}  // namespace distopt
