#include "distopt/data/idx.hpp"

#include <zlib.h>

#include <filesystem>
#include <limits>
#include <memory>
#include <optional>

#include "distopt/core/error.hpp"
#include "distopt/data/memory_budget.hpp"

namespace distopt {

Index IdxArray::row_size() const {
  // With dims[0] = 0 the file holds no data, so read_idx's check of the whole product does not
  // bound the row's: refuse an overflow here instead of wrapping (fuzz finding, idx target).
  Index s = 1;
  for (std::size_t i = 1; i < dims.size(); ++i) {
    if (__builtin_mul_overflow(s, static_cast<Index>(dims[i]), &s)) {
      throw Error("IDX row size overflows 64 bits");
    }
  }
  return s;
}

IdxArray read_idx(const std::string& path, std::uint64_t max_memory) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw FileError(path, "no such file");
  std::unique_ptr<gzFile_s, int (*)(gzFile)> f(gzopen(path.c_str(), "rb"), gzclose);
  if (!f) throw FileError(path, "cannot open");
  gzbuffer(f.get(), 1 << 18);
  auto read_exact = [&](void* buf, std::size_t n, const char* what) {
    auto* p = static_cast<unsigned char*>(buf);
    while (n > 0) {
      const unsigned step = static_cast<unsigned>(std::min<std::size_t>(n, 1u << 30));
      const int got = gzread(f.get(), p, step);
      if (got <= 0) throw FileError(path, std::string("truncated IDX file (") + what + ")");
      p += got;
      n -= static_cast<std::size_t>(got);
    }
  };
  unsigned char magic[4];
  read_exact(magic, 4, "header");
  if (magic[0] != 0 || magic[1] != 0) throw FileError(path, "not an IDX file (bad magic number)");
  if (magic[2] != 0x08) {
    throw FileError(path, "IDX element type " + std::to_string(magic[2]) +
                              " is not supported (only unsigned bytes, 0x08)");
  }
  const int ndims = magic[3];
  if (ndims < 1) throw FileError(path, "IDX file with no dimensions");
  IdxArray a;
  std::string shape;
  for (int i = 0; i < ndims; ++i) {
    unsigned char b[4];
    read_exact(b, 4, "dimensions");
    const std::uint32_t d = (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) |
                            (std::uint32_t{b[2]} << 8) | std::uint32_t{b[3]};
    a.dims.push_back(static_cast<Index>(d));
    shape += (i ? " x " : "") + std::to_string(d);
  }
  // The product of up to 255 32-bit dimensions overflows long before it is allocated: each
  // partial product is checked (a row of the images is also a model of row_size doubles).
  std::uint64_t total = 1, row = 1;
  for (int i = 0; i < ndims; ++i) {
    const auto d = static_cast<std::uint64_t>(a.dims[static_cast<std::size_t>(i)]);
    const auto t = checked_mul(total, d);
    const auto r = i == 0 ? std::optional<std::uint64_t>(1) : checked_mul(row, d);
    if (!t || !r || *t > static_cast<std::uint64_t>(std::numeric_limits<Index>::max())) {
      throw FileError(path, "IDX dimensions " + shape + " overflow 64 bits");
    }
    total = *t;
    row = *r;
  }
  check_memory(path,
               "IDX rows of " + std::to_string(row) + " elements (dimensions " + shape +
                   ") as a float64 model",
               row, sizeof(double), max_memory);
  check_memory(path, "IDX data of dimensions " + shape, total, 1, max_memory);
  a.data.resize(static_cast<std::size_t>(total));
  read_exact(a.data.data(), total, "data");
  unsigned char extra;
  if (gzread(f.get(), &extra, 1) > 0) throw FileError(path, "trailing bytes after the IDX data");
  return a;
}

MnistLike read_mnist_like(const std::string& dir, std::uint64_t max_memory) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    throw FileError(dir, "no such directory (install the package dataset-fashion-mnist)");
  }
  MnistLike m;
  const auto path = [&](const char* name) { return dir + "/" + name; };
  m.train_images = read_idx(path("train-images-idx3-ubyte.gz"), max_memory);
  m.train_labels = read_idx(path("train-labels-idx1-ubyte.gz"), max_memory);
  m.test_images = read_idx(path("t10k-images-idx3-ubyte.gz"), max_memory);
  m.test_labels = read_idx(path("t10k-labels-idx1-ubyte.gz"), max_memory);
  const auto check = [&](const IdxArray& images, const IdxArray& labels, const char* split) {
    if (images.dims.size() < 2 || labels.dims.size() != 1 || images.dims[0] != labels.dims[0]) {
      throw FileError(dir, std::string(split) + " images and labels do not match in count or shape");
    }
    for (auto l : labels.data) {
      if (l > 9) throw FileError(dir, std::string(split) + " label " + std::to_string(l) + " outside 0..9");
    }
  };
  check(m.train_images, m.train_labels, "train");
  check(m.test_images, m.test_labels, "test");
  if (m.train_images.row_size() != m.test_images.row_size()) {
    throw FileError(dir, "train and test images differ in size");
  }
  return m;
}

}  // namespace distopt
