// Ceilings for the bilevel cost split (docs/results-bilevel.md): what one iteration's aggregation
// and block kernels would cost with nothing but the MPI call and the dense products in them.
//
//   raw_allgatherv   MPI_Allgather of the counts + MPI_Allgatherv of the bytes (the two MPI
//                    calls Communicator::allgatherv makes), every rank sending ceil(I/P)
//                    records of SparseAgentSum::record_bytes(B) bytes (a sampled block's record
//                    of a reweight step: nnz <= B distinct batch rows)
//   comm_allgatherv  Communicator::allgatherv(bytes, GatheredBytes&) of the same sizes
//   sparse_agent_sum SparseAgentSum(kOrdered): reset(n), add ceil(I/P) records of B entries,
//                    finish (the aggregation path of bsvrb on reweight, perfectly balanced)
//   gemv             y = A v with A of B x d (one batch's margins), per call
//   gemm             H = Aᵀ D A with A of B x d (one batch's Hessian), per call
//   lu               an LU solve of a d x d system (bsvrb1's H⁻¹ ∇_y f), per call
// Each time is the median of repetitions, each started after a barrier and taken as the slowest
// rank's (the products are timed on every rank at once, so they share the cores as the real
// ranks do).
// Usage: mpirun -np P bench_bilevel I B n d [d ...]; prints CSV lines
//   kind,np,I,B,d,bytes_per_rank,median_us
#include <mpi.h>

#include <Eigen/LU>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "distopt/comm/communicator.hpp"
#include "distopt/comm/environment.hpp"
#include "distopt/comm/sparse_agent_sum.hpp"
#include "distopt/core/types.hpp"

using namespace distopt;
using clk = std::chrono::steady_clock;

namespace {
template <class F>
double median_time(Communicator& comm, int reps, F&& f) {
  std::vector<double> t;
  for (int r = 0; r < reps + 3; ++r) {
    MPI_Barrier(MPI_COMM_WORLD);
    const auto t0 = clk::now();
    f();
    double dt = std::chrono::duration<double>(clk::now() - t0).count();
    dt = comm.allreduce_max(dt);
    if (r >= 3) t.push_back(dt);
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}
}  // namespace

int main(int argc, char** argv) {
  Environment env(argc, argv);
  auto comm = Communicator::world();
  if (argc < 5) {
    if (comm.is_root()) std::fprintf(stderr, "usage: bench_bilevel I B n d [d ...]\n");
    return 2;
  }
  const int I = std::atoi(argv[1]);
  const int B = std::atoi(argv[2]);
  const Index n = std::atol(argv[3]);
  const int P = comm.size();
  const int k = (I + P - 1) / P;  // records per rank, balanced
  const std::uint64_t rec = SparseAgentSum::record_bytes(B);
  const std::size_t bytes = static_cast<std::size_t>(k) * rec;
  auto line = [&](const char* kind, long d, std::size_t b, double t) {
    if (comm.is_root())
      std::printf("%s,%d,%d,%d,%ld,%zu,%.3f\n", kind, P, I, B, d, b, t * 1e6);
  };
  {
    std::vector<std::uint8_t> mine(bytes, 1), all(bytes * static_cast<std::size_t>(P));
    std::vector<int> counts(static_cast<std::size_t>(P)), displs(static_cast<std::size_t>(P));
    const int reps = 2000;
    const double t_raw = median_time(comm, reps, [&] {
      int c = static_cast<int>(mine.size());
      MPI_Allgather(&c, 1, MPI_INT, counts.data(), 1, MPI_INT, MPI_COMM_WORLD);
      int off = 0;
      for (int r = 0; r < P; ++r) displs[static_cast<std::size_t>(r)] = off, off += counts[static_cast<std::size_t>(r)];
      MPI_Allgatherv(mine.data(), c, MPI_BYTE, all.data(), counts.data(), displs.data(), MPI_BYTE,
                     MPI_COMM_WORLD);
    });
    line("raw_allgatherv", 0, bytes, t_raw);
    GatheredBytes out;
    const double t_comm = median_time(comm, reps, [&] { comm.allgatherv(mine, out); });
    line("comm_allgatherv", 0, bytes, t_comm);
    SparseAgentSum sum(comm, Reduction::kOrdered);
    std::vector<Index> idx(static_cast<std::size_t>(B));
    std::vector<double> val(static_cast<std::size_t>(B), 0.5);
    Vector res;
    const Index first = comm.rank() * k;
    const double t_sum = median_time(comm, reps, [&] {
      sum.reset(n);
      for (int a = 0; a < k; ++a) {
        for (int j = 0; j < B; ++j) idx[static_cast<std::size_t>(j)] = (static_cast<Index>(a) * 37 + j * 53) % n;
        std::sort(idx.begin(), idx.end());
        idx.erase(std::unique(idx.begin(), idx.end()), idx.end());
        sum.add(first + a, idx, std::span<const double>(val.data(), idx.size()));
        idx.resize(static_cast<std::size_t>(B));
      }
      sum.finish(res);
    });
    line("sparse_agent_sum", n, bytes, t_sum);
  }
  for (int a = 4; a < argc; ++a) {
    const long d = std::atol(argv[a]);
    Matrix A = Matrix::Random(B, d);
    Vector v = Vector::Random(d), y(B), w = Vector::Random(B).cwiseAbs();
    Matrix H(d, d);
    const int reps = 2000;
    const double t_gemv = median_time(comm, reps, [&] { y.noalias() = A * v; });
    line("gemv", d, 0, t_gemv);
    const double t_gemm = median_time(comm, reps, [&] {
      H.noalias() = A.transpose() * w.asDiagonal() * A;
    });
    line("gemm", d, 0, t_gemm);
    H += Matrix::Identity(d, d);
    Vector x(d);
    const double t_lu = median_time(comm, std::min(reps, 500), [&] { x = H.partialPivLu().solve(v); });
    line("lu", d, 0, t_lu);
    if (y.sum() + x.sum() == 12345.678) std::printf("#\n");  // keep results alive
  }
  return 0;
}
