#include "distopt/data/image_pooling.hpp"

#include "distopt/core/error.hpp"

namespace distopt {

Index image_pool_features(const std::string& key, Index pool, Index n_features,
                          const std::string& source) {
  if (pool < 1 || kPooledImageSide % pool != 0) {
    throw ConfigError(key,
                      "the pooling window must divide the image side 28 (1, 2, 4, 7, 14 or "
                      "28), got " +
                          std::to_string(pool));
  }
  if (pool == 1) return n_features;
  if (n_features != kPooledImageSide * kPooledImageSide) {
    throw ConfigError(key, "pooling needs 28x28 images (784 features); " + source + " has " +
                               std::to_string(n_features) + " (use 1)");
  }
  const Index side = kPooledImageSide / pool;
  return side * side;
}

RowMatrix average_pool_images(const RowMatrix& X, Index pool) {
  if (pool == 1) return X;
  const Index side = kPooledImageSide / pool;
  RowMatrix out = RowMatrix::Zero(X.rows(), side * side);
  const double scale = 1.0 / static_cast<double>(pool * pool);
  for (Index r = 0; r < X.rows(); ++r) {
    for (Index a = 0; a < kPooledImageSide; ++a) {
      for (Index b = 0; b < kPooledImageSide; ++b) {
        out(r, (a / pool) * side + b / pool) += scale * X(r, a * kPooledImageSide + b);
      }
    }
  }
  return out;
}

RowMatrix dense_features(const Dataset& ds) {
  if (ds.precision() == Precision::kFloat32) return ds.dense_f32().cast<double>();
  if (!ds.sparse()) return ds.dense();
  return RowMatrix(ds.csr().toDense());
}

}  // namespace distopt
