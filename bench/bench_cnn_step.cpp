// Forward+backward throughput of the CNN objective (model/cnn.hpp) on one core, against plain
// Eigen double GEMMs measured in the same run:
//   - Cnn::sum_loss with gradient over B rows (default 512; the model walks them in chunks of
//     chunk_rows() images), in GFLOP/s of its GEMMs (Cnn::train_flops);
//   - the same GEMM shapes without im2col, pooling, ReLU or softmax (per chunk: for each layer
//     with weights the forward product, the weight gradient and, but for the first layer, the
//     input gradient), operands hot in cache: the ceiling of an im2col design;
//   - one GEMM of a well-shaped size (B x 400 x 120, LeNet-5's first dense layer at B rows).
// Prints a Markdown table. Timings are the best of --reps (other processes only add time).
//
// usage: bench_cnn_step [--problem cnn:lenet5] [--batch B] [--reps R]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "distopt/core/random.hpp"
#include "distopt/data/dataset.hpp"
#include "distopt/model/cnn.hpp"
#include "distopt/model/objective_registry.hpp"

using namespace distopt;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string problem = "cnn:lenet5";
  Index side = 28, batch = 512, classes = 10;
  int reps = 10;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "%s needs a value\n", a.c_str());
      std::exit(2);
    }
    const std::string v = argv[++i];
    if (a == "--problem") {
      o.problem = v;
      continue;
    }
    const long n = std::strtol(v.c_str(), nullptr, 10);
    if (n <= 0) {
      std::fprintf(stderr, "%s: positive integer expected\n", a.c_str());
      std::exit(2);
    }
    if (a == "--batch") {
      o.batch = n;
    } else if (a == "--reps") {
      o.reps = static_cast<int>(n);
    } else if (a == "--side") {
      o.side = n;
    } else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      std::exit(2);
    }
  }
  return o;
}

/// Best of `reps` timings (seconds) of f(), after one untimed warm-up call.
template <class F>
double best_seconds(int reps, F&& f) {
  f();
  double best = 1e300;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = Clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return best;
}

double sink = 0.0;  // results go here so that nothing is optimised away

/// The GEMMs of one layer with weights at n images: Y = A Wᵀ (m x k times k x o), G += Dᵀ A,
/// and (if `input_grad`) dA = D W.
struct LayerGemm {
  RowMatrix A, W, Y, G, dA;
  bool input_grad;
  void run() {
    Y.noalias() = A * W.transpose();
    G.noalias() += Y.transpose() * A;
    if (input_grad) dA.noalias() = Y * W;
    sink += Y(0, 0) + G(0, 0) + (input_grad ? dA(0, 0) : 0.0);
  }
};

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  const Index d = o.side * o.side;
  const auto obj = make_objective(o.problem, d, o.classes, Task::kMulticlass, {});
  const auto& net = dynamic_cast<const Cnn&>(*obj);
  const Index B = o.batch, chunk = std::min(net.chunk_rows(), B);

  RandomStream rng(2024, 0, 0, Purpose::kData);
  RowMatrix X(B, d);
  Vector y(B);
  for (Index i = 0; i < B; ++i) {
    for (Index j = 0; j < d; ++j) X(i, j) = rng.uniform();
    y[i] = static_cast<double>(rng.uniform_int(static_cast<std::uint64_t>(o.classes)));
  }
  const Dataset ds(std::move(X), y, Task::kMulticlass, o.classes);
  const Vector x = net.initial_point(1);
  Vector g = Vector::Zero(net.dim());
  const double t_model = best_seconds(o.reps, [&] {
    g.setZero();
    sink += net.sum_loss(x, ds.all(), &g);
  });
  const double flops = net.train_flops(B);

  // The same GEMM shapes per chunk of `chunk` images (the last chunk of B may be shorter: the
  // reference runs ceil(B / chunk) full chunks, a slight overestimate of its work, so the ratio
  // is conservative).
  std::vector<LayerGemm> gemms;
  for (std::size_t l = 0; l < net.spec().layers.size(); ++l) {
    const auto& s = net.spec().layers[l];
    if (s.kind != CnnLayerKind::kConv && s.kind != CnnLayerKind::kDense) continue;
    const bool conv = s.kind == CnnLayerKind::kConv;
    const Index m = conv ? chunk * s.output.h * s.output.w : chunk;
    const Index k = conv ? s.kernel * s.kernel * s.in.c : s.in.size();
    LayerGemm L{RowMatrix::Random(m, k), RowMatrix::Random(s.out, k),
                RowMatrix(m, s.out),     RowMatrix::Zero(s.out, k),
                RowMatrix(m, k),         l > 0};
    gemms.push_back(std::move(L));
  }
  const Index chunks = (B + chunk - 1) / chunk;
  const double ref_flops = net.train_flops(chunks * chunk);
  const double t_gemms = best_seconds(o.reps, [&] {
    for (Index c = 0; c < chunks; ++c)
      for (auto& L : gemms) L.run();
  });
  RowMatrix A = RowMatrix::Random(B, 400), W = RowMatrix::Random(120, 400), Y(B, 120);
  const double t_one = best_seconds(o.reps * 5, [&] {
    Y.noalias() = A * W.transpose();
    sink += Y(0, 0);
  });
  const double one_flops = 2.0 * static_cast<double>(B) * 400.0 * 120.0;

  const double r_model = flops / t_model / 1e9, r_gemms = ref_flops / t_gemms / 1e9,
               r_one = one_flops / t_one / 1e9;
  std::printf(
      "| measurement (%s, %ld rows, chunks of %ld) | time | GFLOP/s | vs GEMM %ldx400x120 |\n",
      o.problem.c_str(), static_cast<long>(B), static_cast<long>(chunk), static_cast<long>(B));
  std::printf("|---|---|---|---|\n");
  std::printf(
      "| sum_loss with gradient (forward + backward, %.1f MFLOP) | %.2f ms | %.2f | %.0f%% |\n",
      flops / 1e6, t_model * 1e3, r_model, 100.0 * r_model / r_one);
  std::printf("| plain Eigen GEMMs of the same shapes per chunk | %.2f ms | %.2f | %.0f%% |\n",
              t_gemms * 1e3, r_gemms, 100.0 * r_gemms / r_one);
  std::printf("| plain Eigen GEMM %ldx400x120 | %.3f ms | %.2f | reference |\n",
              static_cast<long>(B), t_one * 1e3, r_one);
  std::printf("\nmodel / same-shape GEMMs: %.0f%%\n", 100.0 * r_model / r_gemms);
  std::fprintf(stderr, "(checksum %g)\n", sink);
  return 0;
}
