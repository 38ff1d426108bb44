#pragma once
// Average pooling of square grey-scale images stored one per row, row-major pixels (Fashion-MNIST:
// 28 × 28 = 784 features), used by the problems that offer a cheaper, coarser version of image
// data (bilevel `reweight` and `hyperclean`, their `*-pool` keys).
#include <string>

#include "distopt/core/types.hpp"
#include "distopt/data/dataset.hpp"

namespace distopt {

/// The side of the images image_pool_features() and average_pool_images() pool (Fashion-MNIST).
inline constexpr Index kPooledImageSide = 28;

/// Checks a pooling window for a source with `n_features` features described by `source`:
/// pool ≥ 1 dividing 28, and 784 features when pool > 1. Throws ConfigError(key) otherwise.
/// Returns the number of features after pooling ((28 / pool)², or n_features for pool 1).
Index image_pool_features(const std::string& key, Index pool, Index n_features,
                          const std::string& source);

/// Each row of `X` (28 × 28 pixels) averaged over pool × pool windows: (28 / pool)² columns,
/// window (r, c) at column r · (28 / pool) + c. pool 1 returns X itself.
RowMatrix average_pool_images(const RowMatrix& X, Index pool);

/// The features of `ds` as a dense float64 matrix (CSR datasets are densified, float32 widened).
RowMatrix dense_features(const Dataset& ds);

}  // namespace distopt
