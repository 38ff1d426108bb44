// --precision (issue 12 item 1): float32 data and the MLP's float32 compute.
//  * the float32 MLP gradient equals central finite differences of its own float32 loss (to
//    float32 tolerances) and the float64 gradient at the same point (relative ~1e-5);
//  * float32 data are the float64 data rounded to nearest, row for row, from a synthetic source
//    (converted by the default DataSource::read_rows) and from Fashion-MNIST (written straight
//    in float32 by its reader), and survive gather/select unchanged;
//  * a federated MLP run at float32 with --reduction ordered gives the same bits (model and every
//    metric) on the world communicator as every client on one rank, at np 1, 2 and 4; it is really
//    float32 (differs from the float64 run, by little);
//  * resume at float32 equals the uninterrupted run (auto = float32 for the MLP, recorded as
//    "float32" in the result file's /config); a resume under another precision is refused naming
//    --precision;
//  * a checkpoint written before --precision (no /state/fingerprint/precision) is taken as float64:
//    it resumes under --precision float64 and is refused under auto (float32 for the MLP);
//  * the auto rule and its refusals (ConfigError "precision").
#include <gtest/gtest.h>
#include <hdf5.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <string>

#include "distopt/comm/communicator.hpp"
#include "distopt/core/error.hpp"
#include "distopt/core/random.hpp"
#include "distopt/data/idx.hpp"
#include "distopt/data/load.hpp"
#include "distopt/io/hdf5.hpp"
#include "distopt/model/mlp.hpp"
#include "distopt/model/precision.hpp"
#include "distopt/model/row_chunks.hpp"
#include "distopt/run/experiment.hpp"
#include "distopt/run/options.hpp"

using namespace distopt;

namespace {

/// n rows of d features in [-1, 1] with labels in 0..C-1, from a fixed stream.
Dataset random_rows(Index n, Index d, Index C, std::uint64_t seed) {
  RandomStream s(seed, 0, 0, Purpose::kData);
  RowMatrix X(n, d);
  Vector y(n);
  for (Index i = 0; i < n; ++i) {
    for (Index j = 0; j < d; ++j) X(i, j) = 2.0 * s.uniform() - 1.0;
    y[i] = static_cast<double>(s.uniform_int(static_cast<std::uint64_t>(C)));
  }
  return Dataset(std::move(X), std::move(y), Task::kMulticlass, C);
}

/// A point drawn from the model's own initialisation, with biases moved off zero.
Vector test_point(const Mlp& m, std::uint64_t seed) {
  Vector x = m.initial_point(seed);
  RandomStream s(seed, 1, 0, Purpose::kData);
  for (Index j = 0; j < x.size(); ++j) x[j] += 0.05 * s.normal();
  return x;
}

}  // namespace

TEST(PrecisionMlp, Float32GradientMatchesFiniteDifferencesAndFloat64) {
  const Index n = 700, d = 9, C = 4;  // 700 rows: two chunks of kMlpChunkRows (512)
  const Dataset d64 = random_rows(n, d, C, 3);
  const Dataset d32 = Dataset(d64).to_precision(Precision::kFloat32);
  ASSERT_EQ(d32.precision(), Precision::kFloat32);
  for (const std::vector<Index>& hidden : {std::vector<Index>{7}, std::vector<Index>{7, 5}}) {
    const Mlp m(d, hidden, C);
    const Vector x = test_point(m, 11);
    Vector g32 = Vector::Zero(m.dim()), g64 = Vector::Zero(m.dim());
    const double l32 = m.sum_loss(x, d32.all(), &g32);
    const double l64 = m.sum_loss(x, d64.all(), &g64);
    ASSERT_GT(g64.norm(), 1.0);
    // Float32 against float64 at the same point (data rounded, weights rounded, float32 GEMMs).
    EXPECT_LT(std::abs(l32 - l64), 1e-5 * std::abs(l64)) << m.name();
    EXPECT_LT((g32 - g64).norm(), 1e-5 * g64.norm()) << m.name();
    EXPECT_GT((g32 - g64).norm(), 0.0) << m.name() << ": the float32 path must really be float32";
    // The loss alone (no gradient) is the same computation.
    EXPECT_EQ(m.sum_loss(x, d32.all(), nullptr), l32);

    // Central differences of the float32 loss itself, on one chunk of 60 rows (loss ~ 80): its
    // rounding noise is ~1e-7 relative, so with h = 1e-3 it adds ~1e-2 at worst to a difference
    // quotient. A quotient can also straddle a ReLU kink; the float64 loss's quotient at the same
    // h straddles the same kinks, so its error is allowed on top of the float32 tolerance.
    const double h = 1e-3;
    const DataBlock few = d32.block(100, 60), few64 = d64.block(100, 60);
    Vector f32 = Vector::Zero(m.dim()), f64 = Vector::Zero(m.dim());
    m.sum_loss(x, few, &f32);
    m.sum_loss(x, few64, &f64);
    const auto quotient = [&](const DataBlock& b, const Vector& v) {
      return (m.sum_loss(x + h * v, b, nullptr) - m.sum_loss(x - h * v, b, nullptr)) / (2 * h);
    };
    for (Index j = 0; j < m.dim(); j += 2) {
      const Vector e = Vector::Unit(m.dim(), j);
      const double err64 = std::abs(quotient(few64, e) - f64[j]);
      EXPECT_LE(std::abs(quotient(few, e) - f32[j]), err64 + 1e-3 * (std::abs(f32[j]) + 10.0))
          << m.name() << " coordinate " << j;
    }
    // A random direction, which mixes every coordinate.
    RandomStream s(5, 0, 0, Purpose::kData);
    Vector v(m.dim());
    for (Index j = 0; j < v.size(); ++j) v[j] = s.normal();
    v /= v.norm();
    const double err64 = std::abs(quotient(few64, v) - f64.dot(v));
    EXPECT_LE(std::abs(quotient(few, v) - f32.dot(v)), err64 + 1e-3 * (f32.norm() + 10.0))
        << m.name();

    // Accuracy counts agree with the float64 path (no row sits within rounding of a tie).
    EXPECT_EQ(m.sum_correct(x, d32.all()), m.sum_correct(x, d64.all())) << m.name();
  }
}

TEST(PrecisionMlp, ChunkFallbackWidensFloat32ForFloat64Objectives) {
  // for_each_chunk on float32 rows hands float64 rows equal to the stored floats widened.
  const Dataset d64 = random_rows(40, 5, 3, 4);
  const Dataset d32 = Dataset(d64).to_precision(Precision::kFloat32);
  Index seen = 0;
  chunks::for_each_chunk(d32.block(3, 30), 16, [&](Index s, const auto& Xc) {
    const RowMatrix expect = d32.dense_f32().middleRows(3 + s, Xc.rows()).template cast<double>();
    EXPECT_EQ(RowMatrix(Xc), expect);
    seen += Xc.rows();
  });
  EXPECT_EQ(seen, 30);
}

namespace {

void expect_rounded(const LocalData& a64, const LocalData& a32, const char* what) {
  ASSERT_EQ(a64.train.precision(), Precision::kFloat64) << what;
  ASSERT_EQ(a32.train.precision(), Precision::kFloat32) << what;
  ASSERT_EQ(a32.test.precision(), Precision::kFloat32) << what;
  EXPECT_EQ(a32.local_offsets, a64.local_offsets) << what;
  EXPECT_EQ(a32.agent_rows, a64.agent_rows) << what;
  EXPECT_EQ(a32.test_first, a64.test_first) << what;
  ASSERT_GT(a64.train.rows(), 0) << what;
  EXPECT_EQ(a32.train.dense_f32(), a64.train.dense().cast<float>()) << what;
  EXPECT_EQ(a32.test.dense_f32(), a64.test.dense().cast<float>()) << what;
  EXPECT_EQ(a32.train.labels(), a64.train.labels()) << what;
  EXPECT_EQ(a32.test.labels(), a64.test.labels()) << what;
  EXPECT_EQ(a32.train.feature_bytes() * 2, a64.train.feature_bytes()) << what;
  // A minibatch gathered from float32 rows is float32 and holds the same rows.
  const std::vector<Index> pick{5, 0, 3};
  const Dataset g = a32.train.select(pick);
  ASSERT_EQ(g.precision(), Precision::kFloat32);
  for (std::size_t i = 0; i < pick.size(); ++i) {
    EXPECT_EQ(RowMatrixF(g.dense_f32().row(static_cast<Index>(i))),
              RowMatrixF(a32.train.dense_f32().row(pick[i])));
  }
}

}  // namespace

TEST(PrecisionData, Float32DataAreFloat64DataRounded) {
  auto comm = Communicator::world();
  DataSpec spec;
  spec.data = "synthetic:fedprox:alpha=1,beta=1,clients=6,test=0.3";
  spec.partition = "iid";  // rows gathered out of source order
  spec.seed = 9;
  const Placement pl(6, comm.size(), comm.rank());
  const LocalData a64 = load_local(spec, pl);
  spec.precision = Precision::kFloat32;
  const LocalData a32 = load_local(spec, pl);
  expect_rounded(a64, a32, "synthetic");
}

TEST(PrecisionData, FashionMnistReadStraightInFloat32) {
  if (!std::filesystem::exists(std::string(kFashionMnistDir) + "/train-images-idx3-ubyte.gz")) {
    GTEST_SKIP() << "Fashion-MNIST is not installed";
  }
  auto comm = Communicator::world();
  for (const char* data : {"fmnist:classes=0,6,9", "fmnist:classes=0,6,9:normalize"}) {
    DataSpec spec;
    spec.data = data;
    spec.partition = "dirichlet:0.3";  // rows gathered far out of file order
    spec.seed = 2;
    // A quarter of the agents (some rank count P >= 4 gives each rank at most this much).
    const Placement pl(16, 4, comm.rank() % 4);
    const LocalData a64 = load_local(spec, pl);
    spec.precision = Precision::kFloat32;
    const LocalData a32 = load_local(spec, pl);
    expect_rounded(a64, a32, data);
  }
}

namespace {

Config make_config(std::map<std::string, std::string> kv) {
  kv.emplace("algorithm", "fedavg");
  kv.emplace("problem", "mlp:12");
  kv.emplace("data", "synthetic:fedprox:alpha=1,beta=1,clients=8,test=0.3");
  kv.emplace("partition", "natural");
  kv.emplace("agents", "8");
  kv.emplace("participation", "0.5");
  kv.emplace("local-steps", "3");
  kv.emplace("batch-size", "10");
  kv.emplace("lr", "0.05");
  kv.emplace("reduction", "ordered");
  kv.emplace("rounds", "6");
  kv.emplace("eval-every", "2");
  kv.emplace("log-format", "none");
  kv.emplace("output", "none");
  kv.emplace("seed", "5");
  return Config::from_map(train_options(), kv);
}

bool machine_dependent(const std::string& name) {
  return name == "wall_time" || name.rfind("time_", 0) == 0 || name == "bytes_mpi" ||
         name.rfind("mpi_", 0) == 0;
}

/// A path every rank agrees on, distinct per world size (suites at np 1, 2, 4 may run at once).
std::string shared_path(Communicator& comm, const std::string& tag) {
  std::string p = std::string(DISTOPT_BINARY_DIR) + "/test_precision_np" +
                  std::to_string(comm.size()) + "_" + tag + ".ckpt.h5";
  comm.broadcast(p);
  return p;
}

}  // namespace

TEST(PrecisionRun, Float32BitwiseAtAnyRankCount) {
  for (const char* algorithm : {"fedavg", "fedspeed"}) {
    // Fresh communicator wrappers per run: their traffic counters are part of the metrics.
    auto world = Communicator::world();
    auto self = Communicator::self();
    const Config cfg = make_config({{"algorithm", algorithm}, {"precision", "float32"}});
    const ExperimentOutcome rw = run_experiment(world, cfg);
    const ExperimentOutcome rs = run_experiment(self, cfg);
    ASSERT_GT(rw.model.norm(), 0.1);
    EXPECT_EQ((rw.model - rs.model).norm(), 0.0) << algorithm;
    ASSERT_EQ(rw.log.names(), rs.log.names());
    int compared = 0;
    for (const auto& name : rw.log.names()) {
      if (machine_dependent(name)) continue;
      EXPECT_EQ(rw.log.column(name), rs.log.column(name)) << algorithm << ": column " << name;
      ++compared;
    }
    EXPECT_GE(compared, 4);
    // Really float32: the float64 run differs, by about float32 rounding amplified over rounds.
    const ExperimentOutcome r64 =
        run_experiment(world, make_config({{"algorithm", algorithm}, {"precision", "float64"}}));
    const double rel = (rw.model - r64.model).norm() / r64.model.norm();
    EXPECT_GT(rel, 0.0) << algorithm;
    EXPECT_LT(rel, 1e-3) << algorithm;
    // auto is float32 for the MLP.
    const ExperimentOutcome ra = run_experiment(world, make_config({{"algorithm", algorithm}}));
    EXPECT_EQ((ra.model - rw.model).norm(), 0.0) << algorithm;
  }
}

TEST(PrecisionRun, ResumeAtFloat32EqualsUninterruptedAndOtherPrecisionIsRefused) {
  auto comm = Communicator::world();
  const std::string ckpt = shared_path(comm, "resume");
  const std::map<std::string, std::string> base{
      {"algorithm", "fedspeed"}, {"precision", "float32"}, {"rounds", "8"}, {"checkpoint", ckpt}};
  auto with = [&](std::map<std::string, std::string> extra) {
    auto kv = base;
    for (auto& [k, v] : extra) kv[k] = v;
    return make_config(kv);
  };
  auto c1 = Communicator::world(), c2 = Communicator::world(), c3 = Communicator::world();
  const std::string out = shared_path(comm, "full") + ".result.h5";
  const ExperimentOutcome full =
      run_experiment(c1, with({{"overwrite", "true"}, {"output", out}, {"precision", "auto"}}));
  // The result file records the resolved precision, not "auto".
  if (comm.is_root()) {
    EXPECT_EQ(h5::File::open(out).group("config").attr_string("precision"), "float32");
  }
  run_experiment(c2, with({{"rounds", "6"}, {"checkpoint-every", "4"}, {"overwrite", "true"}}));
  const ExperimentOutcome resumed = run_experiment(c3, with({{"resume", ckpt}}));
  EXPECT_EQ((resumed.model - full.model).norm(), 0.0);
  ASSERT_EQ(resumed.log.rows(), full.log.rows());
  EXPECT_EQ(resumed.log.column("loss"), full.log.column("loss"));

  // The same checkpoint under float64 is refused before any work, naming the key.
  auto c4 = Communicator::world();
  try {
    run_experiment(c4, with({{"resume", ckpt}, {"precision", "float64"}}));
    ADD_FAILURE() << "a resume under another precision must be refused";
  } catch (const InputError& e) {
    // Agreed over ranks (Communicator::agree_on_errors), which rethrows the message.
    EXPECT_EQ(std::string(e.what()).rfind("--resume: ", 0), 0u) << e.what();
    EXPECT_NE(std::string(e.what()).find("--precision float32, this run has --precision float64"),
              std::string::npos)
        << e.what();
  }
  comm.barrier();
  if (comm.is_root()) {
    std::filesystem::remove(ckpt);
    std::filesystem::remove(out);
  }
}

TEST(PrecisionRun, CheckpointWithoutPrecisionIsFloat64) {
  auto comm = Communicator::world();
  const std::string ckpt = shared_path(comm, "old");
  const std::map<std::string, std::string> base{
      {"algorithm", "fedavg"}, {"precision", "float64"}, {"rounds", "6"}, {"checkpoint", ckpt}};
  auto with = [&](std::map<std::string, std::string> extra) {
    auto kv = base;
    for (auto& [k, v] : extra) kv[k] = v;
    return make_config(kv);
  };
  auto c1 = Communicator::world(), c2 = Communicator::world(), c3 = Communicator::world();
  const ExperimentOutcome full = run_experiment(c1, with({{"overwrite", "true"}}));
  run_experiment(c2, with({{"rounds", "4"}, {"checkpoint-every", "2"}, {"overwrite", "true"}}));
  // Make it a checkpoint from before --precision: drop the key from its fingerprint.
  if (comm.is_root()) {
    const hid_t f = H5Fopen(ckpt.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    EXPECT_GE(H5Ldelete(f, "/state/fingerprint/precision", H5P_DEFAULT), 0);
    H5Fclose(f);
  }
  comm.barrier();
  try {
    run_experiment(c3, with({{"resume", ckpt}, {"precision", "auto"}}));
    ADD_FAILURE() << "an old checkpoint is float64: auto (float32 for the MLP) must be refused";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("--precision float64, this run has --precision float32"),
              std::string::npos)
        << e.what();
  }
  auto c4 = Communicator::world();
  const ExperimentOutcome resumed = run_experiment(c4, with({{"resume", ckpt}}));
  EXPECT_EQ((resumed.model - full.model).norm(), 0.0);
  comm.barrier();
  if (comm.is_root()) std::filesystem::remove(ckpt);
}

TEST(PrecisionRule, AutoAndRefusals) {
  EXPECT_EQ(resolve_precision("auto", "mlp:200"), Precision::kFloat32);
  EXPECT_EQ(resolve_precision("auto", "mlp:200,50"), Precision::kFloat32);
  EXPECT_EQ(resolve_precision("float64", "mlp:200"), Precision::kFloat64);
  EXPECT_EQ(resolve_precision("float32", "mlp:8"), Precision::kFloat32);
  for (const char* convex : {"auto", "least-squares", "logistic", "softmax"}) {
    EXPECT_EQ(resolve_precision("auto", convex), Precision::kFloat64) << convex;
    EXPECT_EQ(resolve_precision("float64", convex), Precision::kFloat64) << convex;
    try {
      resolve_precision("float32", convex);
      ADD_FAILURE() << convex << " at float32 must be refused";
    } catch (const ConfigError& e) {
      EXPECT_EQ(e.key(), "precision");
    }
  }
  for (const char* bad : {"", "float16", "Float32", "double"}) {
    try {
      resolve_precision(bad, "mlp:8");
      ADD_FAILURE() << "'" << bad << "' must be refused";
    } catch (const ConfigError& e) {
      EXPECT_EQ(e.key(), "precision");
    }
  }
}
