// libFuzzer target: the HDF5 dataset loader (DatasetFile: open and validate the structure, then
// labels, the stored partition, every row of both splits, the provenance attributes), on an HDF5
// file holding the input bytes. No MPI: DatasetFile is what each rank's loader calls.
#include "distopt/data/dataset_file.hpp"
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto& path = distopt_fuzz::write_input(data, size, ".h5");
  return distopt_fuzz::run_one([&] {
    const distopt::DatasetFile f(path, distopt_fuzz::kMaxMemory);
    for (auto s : {distopt::Split::kTrain, distopt::Split::kTest}) {
      const auto y = f.labels(s);
      const auto d = f.read_all(s);
      if (d.rows() != f.rows(s) || d.cols() != f.n_features()) std::abort();
      (void)y;
    }
    if (f.has_owner()) (void)f.owner();
    (void)f.extra_attributes();
  });
}
