#pragma once
// Reader of the IDX format of (Fashion-)MNIST (LeCun et al.): a big-endian header (two zero
// bytes, an element-type byte, the number of dimensions, then each dimension as a 32-bit
// integer) followed by the elements. Files may be gzip-compressed (read through zlib, which
// also reads uncompressed files).
#include <cstdint>
#include <string>
#include <vector>

#include "distopt/core/types.hpp"

namespace distopt {

/// An IDX array of unsigned bytes (the only element type MNIST-like data uses).
struct IdxArray {
  std::vector<Index> dims;         ///< dimensions from the header, outermost first
  std::vector<std::uint8_t> data;  ///< the elements, row-major
  /// Product of the dimensions after the first (784 for 28x28 images; 1 for labels).
  Index row_size() const;
};

/// Reads the whole file. FileError if it is missing, not IDX of unsigned bytes, or truncated, if
/// its dimensions overflow 64 bits, or if the data (or a row as a float64 model) exceed the
/// memory budget `max_memory` (memory_budget.hpp; 0: the default) — checked before allocating.
IdxArray read_idx(const std::string& path, std::uint64_t max_memory = 0);

/// Where the Debian package dataset-fashion-mnist installs the four files.
inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";
/// Fashion-MNIST's pixel mean after /255 over the training set, torchvision pipelines'
/// Normalize((0.2860,), (0.3530,)) mean (fmnist:normalize).
inline constexpr double kFmnistMean = 0.2860;
/// Fashion-MNIST's pixel standard deviation after /255 (the 0.3530 of that Normalize).
inline constexpr double kFmnistStd = 0.3530;

/// Fashion-MNIST (or MNIST) in one directory: train-images-idx3-ubyte.gz,
/// train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz.
struct MnistLike {
  /// The four files: train images (n x 28 x 28) and labels (n), test images and labels.
  IdxArray train_images, train_labels, test_images, test_labels;
  /// @var train_labels
  /// Training labels, one byte (0..9) per image.
  /// @var test_images
  /// Test images (t10k), one row of bytes per image.
  /// @var test_labels
  /// Test labels, one byte (0..9) per test image.
};
/// Reads and cross-checks the four files (image and label counts agree, labels 0..9).
/// `max_memory` bounds each file as in read_idx.
MnistLike read_mnist_like(const std::string& dir, std::uint64_t max_memory = 0);

}  // namespace distopt
