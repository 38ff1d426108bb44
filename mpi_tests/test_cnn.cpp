// The CNN objective (model/cnn.hpp, --problem cnn:SPEC): exact gradients by central finite
// differences on tiny networks covering every layer kind, losses computed by hand, deterministic
// max-pool ties, chunking and CSR invariance, the layout PowerSGD compresses, spec errors, and a
// federated run that gives the same model bit for bit at any rank count (--reduction ordered).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <string>

#include "distopt/comm/communicator.hpp"
#include "distopt/comm/placement.hpp"
#include "distopt/compress/power_sgd_uplink.hpp"
#include "distopt/core/error.hpp"
#include "distopt/core/random.hpp"
#include "distopt/model/cnn.hpp"
#include "distopt/model/objective_registry.hpp"
#include "distopt/run/experiment.hpp"
#include "distopt/run/options.hpp"

using namespace distopt;

namespace {

/// n random images of `features` values in [0, 1) with labels 0..C-1.
Dataset random_images(Index n, Index features, Index classes, std::uint64_t seed) {
  RandomStream s(seed, 0, 0, Purpose::kData);
  RowMatrix X(n, features);
  Vector y(n);
  for (Index i = 0; i < n; ++i) {
    for (Index j = 0; j < features; ++j) X(i, j) = s.uniform();
    y[i] = static_cast<double>(i % classes);
  }
  return Dataset(std::move(X), std::move(y), Task::kMulticlass, classes);
}

std::unique_ptr<Objective> cnn(const std::string& spec, Index features, Index classes) {
  return make_objective(spec, features, classes, Task::kMulticlass, Regularization{});
}

/// He init plus a perturbation, so that biases are not all zero (a zero bias puts every padded
/// ReLU input on its kink).
Vector test_point(const Objective& m, std::uint64_t seed) {
  Vector x = m.initial_point(seed);
  RandomStream s(seed, 1, 0, Purpose::kData);
  for (Index j = 0; j < x.size(); ++j) x[j] += 0.1 * s.normal();
  return x;
}

/// ‖g − g_fd‖ / ‖g‖ of sum_loss, central differences with step h.
double fd_error(const Objective& m, const Vector& x, const DataBlock& rows, double h = 1e-5) {
  Vector g = Vector::Zero(x.size());
  m.sum_loss(x, rows, &g);
  Vector fd(x.size());
  Vector xp = x;
  for (Index j = 0; j < x.size(); ++j) {
    xp[j] = x[j] + h;
    const double fp = m.sum_loss(xp, rows, nullptr);
    xp[j] = x[j] - h;
    const double fm = m.sum_loss(xp, rows, nullptr);
    xp[j] = x[j];
    fd[j] = (fp - fm) / (2 * h);
  }
  return (g - fd).norm() / g.norm();
}

}  // namespace

TEST(Cnn, GradientMatchesFiniteDifferencesOnEveryLayerKind) {
  struct Net {
    const char* spec;
    Index features;
  };
  // Stride 2 with padding; padding, average pooling, two convolutions, an overlapping max pool;
  // pooling first on a non-square multi-channel image, a stride-2 kernel, two dense layers.
  const Net nets[] = {{"cnn:in=7x7x2,c3k3s2p1,max2,f5", 98},
                      {"cnn:in=8x8x1,c2k3p1,avg2,c3k3,max2s1,f4", 64},
                      {"cnn:in=6x5x3,avg3s1,c2k2s2p1,f3,f3", 90},
                      {"cnn:c2k5p2,max2,c3k3,avg2,f6", 144}};
  for (const auto& net : nets) {
    const auto m = cnn(net.spec, net.features, 3);
    const Dataset ds = random_images(7, net.features, 3, 11);
    const Vector x = test_point(*m, 3);
    const double err = fd_error(*m, x, ds.all());
    EXPECT_LT(err, 1e-6) << net.spec;
    if (Communicator::world().rank() == 0)
      std::printf("  %s: d=%lld, relative gradient error %.2e\n", net.spec,
                  static_cast<long long>(m->dim()), err);
  }
}

TEST(Cnn, LossOfOneConvolutionOnA4x4ImageByHand) {
  // Image pixel (r, c) = 4r + c + 1: 1..16 row by row.
  RowMatrix X(1, 16);
  for (Index j = 0; j < 16; ++j) X(0, j) = static_cast<double>(j + 1);
  const Dataset ds(X, Vector::Zero(1), Task::kMulticlass, 2);
  {
    // 3x3 kernel with only its centre = 1 and bias −5: the 2x2 output is the inner pixels
    // 6, 7, 10, 11 minus 5 = 1, 2, 5, 6 (all > 0, ReLU passes them). The output layer picks
    // z = (out(0,0), out(1,1)) = (1, 6); label 0: ℓ = log(e^1 + e^6) − 1 = log(1 + e^5).
    const auto m = cnn("cnn:in=4x4x1,c1k3", 16, 2);
    const auto& b = m->layout().blocks();
    ASSERT_EQ(b.size(), 4u);
    Vector x = Vector::Zero(m->dim());
    x[b[0].offset + 4] = 1.0;                    // C1 is 1 x 9, (ky, kx) row-major: centre at 4
    x[b[1].offset] = -5.0;                       // c1
    m->layout().block_matrix(x, 2)(0, 0) = 1.0;  // W1 (2 x 4) on the flattened 2x2 output
    m->layout().block_matrix(x, 2)(1, 3) = 1.0;
    EXPECT_NEAR(m->sum_loss(x, ds.all(), nullptr), std::log1p(std::exp(5.0)), 1e-14);
  }
  {
    // Stride 2, padding 1, 3x3 kernel with only its top-left = 1, bias 0: output pixel (oy, ox)
    // reads input (2oy − 1, 2ox − 1): padding for three of them, pixel (1, 1) = 6 for (1, 1).
    // The output layer z = (sum of the four outputs, 0) = (6, 0); label 1: ℓ = log(1 + e^6).
    const auto m = cnn("cnn:in=4x4x1,c1k3s2p1", 16, 2);
    Vector x = Vector::Zero(m->dim());
    x[m->layout().blocks()[0].offset] = 1.0;
    m->layout().block_matrix(x, 2).row(0).setOnes();
    const Dataset d1(X, Vector::Ones(1), Task::kMulticlass, 2);
    EXPECT_NEAR(m->sum_loss(x, d1.all(), nullptr), std::log1p(std::exp(6.0)), 1e-14);
    // Average pooling over the whole 2x2 output: z_0 = 6/4.
    const auto a = cnn("cnn:in=4x4x1,c1k3s2p1,avg2", 16, 2);
    Vector xa = Vector::Zero(a->dim());
    xa[a->layout().blocks()[0].offset] = 1.0;
    a->layout().block_matrix(xa, 2)(0, 0) = 1.0;
    EXPECT_NEAR(a->sum_loss(xa, d1.all(), nullptr), std::log1p(std::exp(1.5)), 1e-14);
  }
}

TEST(Cnn, MaxPoolTiesSendTheGradientToTheFirstWindowEntry) {
  // A 1x1 convolution with weight 0 and bias 0.5 gives four equal outputs 0.5 on the 2x2 image
  // (3, 5, 7, 9); the max pool takes the first in (ky, kx) order, whose input is 3. So
  // dℓ/dw = 3 dℓ/db exactly, every time.
  RowMatrix X(1, 4);
  X << 3, 5, 7, 9;
  const Dataset ds(X, Vector::Zero(1), Task::kMulticlass, 2);
  const auto m = cnn("cnn:c1k1,max2", 4, 2);
  Vector x = Vector::Zero(m->dim());
  x[m->layout().blocks()[1].offset] = 0.5;
  m->layout().block_matrix(x, 2)(0, 0) = 1.0;
  Vector g = Vector::Zero(m->dim()), g2 = Vector::Zero(m->dim());
  m->sum_loss(x, ds.all(), &g);
  m->sum_loss(x, ds.all(), &g2);
  const double dw = g[m->layout().blocks()[0].offset], db = g[m->layout().blocks()[1].offset];
  ASSERT_NE(db, 0.0);
  EXPECT_EQ(dw, 3.0 * db);
  EXPECT_EQ((g - g2).norm(), 0.0);
}

TEST(Cnn, SumOverABlockEqualsTheSumOverSingleRowsAndCsr) {
  const auto m = cnn("cnn:lenet5", 784, 10);
  const auto& net = dynamic_cast<const Cnn&>(*m);
  const Index n = net.chunk_rows() * 2 + 3;  // three chunks, the last one short
  ASSERT_LT(net.chunk_rows(), n);
  const Dataset ds = random_images(n, 784, 10, 5);
  const Vector x = test_point(*m, 9);
  Vector g = Vector::Zero(m->dim());
  const double loss = m->sum_loss(x, ds.all(), &g);
  double loss1 = 0.0;
  Vector g1 = Vector::Zero(m->dim());
  for (Index i = 0; i < n; ++i) loss1 += m->sum_loss(x, ds.block(i, 1), &g1);
  EXPECT_NEAR(loss, loss1, 1e-12 * std::abs(loss1));
  EXPECT_LT((g - g1).norm(), 1e-12 * g1.norm());
  EXPECT_EQ(m->sum_loss(x, ds.all(), nullptr), loss);  // the loss does not depend on g
  // The same rows stored as CSR give the same bits (they are made dense per chunk).
  const Dataset sp(SparseRowMatrix(ds.dense().sparseView()), ds.labels(), Task::kMulticlass, 10);
  Vector gs = Vector::Zero(m->dim());
  EXPECT_EQ(m->sum_loss(x, sp.all(), &gs), loss);
  EXPECT_EQ((gs - g).norm(), 0.0);
  EXPECT_EQ(m->sum_correct(x, sp.all()), m->sum_correct(x, ds.all()));
}

TEST(Cnn, PresetLayoutsAndParameterCounts) {
  // LeNet-5 on 28x28x1: 156 + 2416 + 48120 + 10164 + 850 = 61706 parameters.
  const auto l = cnn("cnn:lenet5", 784, 10);
  EXPECT_EQ(l->name(), "cnn:lenet5");
  EXPECT_EQ(l->dim(), 61706);
  struct Shape {
    const char* name;
    Index rows, cols;
  };
  const Shape want[] = {{"C1", 6, 25},    {"c1", 6, 1},   {"C2", 16, 150}, {"c2", 16, 1},
                        {"W1", 120, 400}, {"b1", 120, 1}, {"W2", 84, 120}, {"b2", 84, 1},
                        {"W3", 10, 84},   {"b3", 10, 1}};
  const auto& blocks = l->layout().blocks();
  ASSERT_EQ(blocks.size(), std::size(want));
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    EXPECT_EQ(blocks[i].name, want[i].name);
    EXPECT_EQ(blocks[i].rows, want[i].rows) << want[i].name;
    EXPECT_EQ(blocks[i].cols, want[i].cols) << want[i].name;
  }
  // The FedAvg CNN: 1,663,370 parameters as McMahan et al. 2017 report.
  EXPECT_EQ(cnn("cnn:fedavg", 784, 10)->dim(), 1663370);
  // A preset with another input shape.
  EXPECT_EQ(cnn("cnn:in=32x32x3,lenet5", 3072, 10)->layout().blocks()[0].cols, 75);
  // Training FLOPs of one image: forward + weight gradient of every layer, input gradient of all
  // but the first; conv1 117600, conv2 240000, dense 48000 + 10080 + 840 multiply-adds.
  const auto& net = dynamic_cast<const Cnn&>(*l);
  EXPECT_DOUBLE_EQ(net.train_flops(1), 2.0 * (2 * 117600.0 + 3 * (240000.0 + 58920.0)));
}

TEST(Cnn, PowerSgdCompressesEveryKernelAsAnOutByInKKMatrix) {
  // values per agent = Σ over matrix blocks of r(n + m) + the biases, exactly when PowerSGD sees
  // C1 6x25, C2 16x150, W1 120x400, W2 84x120, W3 10x84.
  auto comm = Communicator::world();
  const auto m = cnn("cnn:lenet5", 784, 10);
  const Placement pl(4, comm.size(), comm.rank());
  const Index biases = 6 + 16 + 120 + 84 + 10;
  for (const Index r : {1, 4}) {
    PowerSgdUplink up(comm, Reduction::kOrdered, pl, m->layout(), r, WirePrecision::kFloat64, 1);
    const Index want = r * ((6 + 25) + (16 + 150) + (120 + 400) + (84 + 120) + (10 + 84)) + biases;
    EXPECT_EQ(up.values_per_agent(), want) << "rank " << r;
  }
}

TEST(Cnn, BadSpecsAreConfigErrorsNamingTheProblem) {
  const struct {
    const char* spec;
    Index features;
    const char* want;
  } cases[] = {
      {"cnn", 784, "give the layers or a preset"},
      {"cnn:", 784, "give the layers or a preset"},
      {"cnn:lenet6", 784, "'lenet6' is not a layer"},
      {"cnn:c6", 784, "give the kernel"},
      {"cnn:c0k5", 784, "the channel count must be an integer"},
      {"cnn:c6k5s0", 784, "the stride must be"},
      {"cnn:c6k-5", 784, "the kernel must be"},
      {"cnn:c6k5p5", 784, "padding must be smaller than the kernel"},
      {"cnn:c6k5,", 784, "'' is not a layer"},
      {"cnn:max2x", 784, "'max2x' is not a layer"},
      {"cnn:f10,c6k5", 784, "convolution or pooling after a dense layer"},
      {"cnn:lenet5", 60, "60 features are no square single-channel image"},
      {"cnn:in=28x28x3,lenet5", 784, "input shape 28x28x3 does not match the data's 784"},
      {"cnn:in=28x28,in=28x28", 784, "given twice"},
      {"cnn:in=28", 784, "expected in=HxWxC"},
      {"cnn:in=28x28", 784, "no layers"},
      {"cnn:c6k29", 784, "window leaves an empty output"},
      {"cnn:c6k5,max2,c16k5,max2,max5", 784, "layer 5 (input 4x4x16): a 5x5 window"},
      {"cnn:f100000,f100000", 784, "more than 5e8 weights"},
  };
  for (const auto& c : cases) {
    try {
      cnn(c.spec, c.features, 10);
      ADD_FAILURE() << c.spec << " accepted";
    } catch (const ConfigError& e) {
      EXPECT_EQ(e.key(), "problem") << c.spec;
      EXPECT_NE(std::string(e.what()).find(c.want), std::string::npos)
          << c.spec << ": " << e.what();
    }
  }
  EXPECT_THROW(make_objective("cnn:lenet5", 784, 1, Task::kRegression, {}), ConfigError);
}

TEST(Cnn, FederatedRunIsBitwiseTheSameAtAnyRankCount) {
  auto world = Communicator::world();
  auto self = Communicator::self();
  for (const char* method : {"fedavg", "fedspeed"}) {
    const std::map<std::string, std::string> kv = {
        {"problem", "cnn:c4k3p1,max2,c4k2,avg2,f8"},
        {"data", "synthetic:fedprox:alpha=1,beta=1,clients=8,test=0.3,dim=36"},
        {"partition", "natural"},
        {"agents", "8"},
        {"algorithm", method},
        {"clients-per-round", "3"},
        {"local-steps", "3"},
        {"batch-size", "5"},
        {"lr", "0.05"},
        {"reduction", "ordered"},
        {"rounds", "4"},
        {"eval-every", "2"},
        {"log-format", "none"},
        {"output", "none"},
        {"seed", "5"}};
    const Config cfg = Config::from_map(train_options(), kv);
    const ExperimentOutcome rw = run_experiment(world, cfg);
    const ExperimentOutcome rs = run_experiment(self, cfg);
    ASSERT_EQ(rw.model.size(), rs.model.size());
    EXPECT_EQ(rw.summary.rounds_done, 4) << method;
    EXPECT_EQ((rw.model - rs.model).norm(), 0.0) << method;
    EXPECT_EQ(rw.log.column("test_accuracy"), rs.log.column("test_accuracy")) << method;
  }
}
