// libFuzzer target: the IDX reader (read_idx: header, dimensions, data, trailing bytes), on a
// plain or gzip file holding the input bytes.
#include <cstdio>

#include "distopt/data/idx.hpp"
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto& path = distopt_fuzz::write_input(data, size, ".idx");
  return distopt_fuzz::run_one([&] {
    const auto a = distopt::read_idx(path, distopt_fuzz::kMaxMemory);
    // The invariant read_mnist_like and the fmnist source rely on when they cut rows out of
    // data: the product of the dimensions is the number of bytes read (computed without
    // overflow here, so a reader that let the product wrap is reported, not UB in the target).
    unsigned __int128 product = 1;
    for (auto d : a.dims) {
      product *= static_cast<unsigned __int128>(d);
      if (product > (unsigned __int128){1} << 64) break;
    }
    if (product != a.data.size()) {
      std::fprintf(stderr,
                   "fuzz_idx: FINDING: IDX dimensions disagree with the %zu data bytes read\n",
                   a.data.size());
      std::abort();
    }
    (void)a.row_size();
  });
}
