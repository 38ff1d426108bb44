// libFuzzer target: the LIBSVM reader (parse_libsvm, then the label rule and the CSR assembly of
// read_libsvm), on a plain-text or gzip file holding the input bytes.
#include <optional>

#include "distopt/data/libsvm.hpp"
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto& path = distopt_fuzz::write_input(data, size, ".svm");
  return distopt_fuzz::run_one([&] {
    const auto d = distopt::read_libsvm(path, "", std::nullopt, 0, distopt_fuzz::kMaxMemory);
    // What the rest of the pipeline relies on: one label per row, columns cover every index.
    if (d.train.rows() != d.train.labels().size()) std::abort();
    if (d.train.rows() < 1 || d.train.cols() < 0) std::abort();
  });
}
