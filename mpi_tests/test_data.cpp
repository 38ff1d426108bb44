// The data layer: readers (IDX on Fashion-MNIST, LIBSVM, dataset files), synthetic generators,
// partitioners, load_data's independence from the rank count, errors that name what is wrong,
// and the minibatch sampler.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "distopt/comm/communicator.hpp"
#include "distopt/comm/placement.hpp"
#include "distopt/core/error.hpp"
#include "distopt/data/dataset_file.hpp"
#include "distopt/data/idx.hpp"
#include "distopt/data/libsvm.hpp"
#include "distopt/data/load.hpp"
#include "distopt/data/local_data.hpp"
#include "distopt/data/memory_budget.hpp"
#include "distopt/data/minibatch.hpp"
#include "distopt/data/partition.hpp"
#include "distopt/data/source.hpp"
#include "distopt/data/synthetic.hpp"

using namespace distopt;
namespace fs = std::filesystem;

namespace {

/// A directory private to this rank and process count (CTest may run np1/np2/np4 at once).
std::string private_dir() {
  auto comm = Communicator::world();
  const auto dir = fs::path(DISTOPT_BINARY_DIR) / "test_scratch" /
                   ("data_np" + std::to_string(comm.size()) + "_r" + std::to_string(comm.rank()));
  fs::create_directories(dir);
  return dir.string();
}

/// A directory shared by the ranks of this process count.
std::string shared_dir() {
  auto comm = Communicator::world();
  const auto dir = fs::path(DISTOPT_BINARY_DIR) / "test_scratch" /
                   ("data_np" + std::to_string(comm.size()) + "_shared");
  fs::create_directories(dir);
  return dir.string();
}

/// Order-sensitive checksum of a block of rows (features and labels).
double checksum(const DataBlock& b) {
  double s = 0;
  if (b.sparse()) {
    const auto m = b.csr();
    for (Index i = 0; i < m.outerSize(); ++i) {
      for (decltype(m)::InnerIterator it(m, i); it; ++it) {
        s += it.value() * static_cast<double>(1 + (i * 31 + it.col()) % 7);
      }
    }
  } else {
    const auto m = b.dense();
    for (Index i = 0; i < m.rows(); ++i) {
      for (Index j = 0; j < m.cols(); ++j) s += m(i, j) * static_cast<double>(1 + (i * 31 + j) % 7);
    }
  }
  const auto y = b.labels();
  for (Index i = 0; i < y.size(); ++i) s += y[i] * static_cast<double>(i + 1);
  return s;
}

template <class E, class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "(no error)";
}

#define EXPECT_CONTAINS(text, word) \
  EXPECT_NE(std::string(text).find(word), std::string::npos) << "'" << (word) << "' not in: " << (text)

void write_text(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

}  // namespace

// ---------------------------------------------------------------- readers

TEST(Idx, FashionMnist) {
  const auto m = read_mnist_like(kFashionMnistDir);
  EXPECT_EQ(m.train_images.dims, (std::vector<Index>{60000, 28, 28}));
  EXPECT_EQ(m.test_images.dims, (std::vector<Index>{10000, 28, 28}));
  EXPECT_EQ(m.train_images.row_size(), 784);
  std::map<int, Index> counts;
  for (auto l : m.train_labels.data) ++counts[l];
  EXPECT_EQ(counts.size(), 10u);
  for (const auto& [label, n] : counts) {
    EXPECT_GE(label, 0);
    EXPECT_LE(label, 9);
    EXPECT_EQ(n, 6000) << "class " << label;
  }
  for (auto l : m.test_labels.data) EXPECT_LE(l, 9);
  EXPECT_CONTAINS(error_of<FileError>([] { read_idx("/nonexistent/train-images.gz"); }), "no such file");
}

TEST(Idx, FashionMnistSourceScalesPixels) {
  const auto src = open_source("fmnist");
  EXPECT_EQ(src->rows(Split::kTrain), 60000);
  EXPECT_EQ(src->rows(Split::kTest), 10000);
  EXPECT_EQ(src->n_features(), 784);
  EXPECT_EQ(src->n_classes(), 10);
  const std::vector<Index> rows{0, 17, 59999};
  const auto d = src->read(Split::kTrain, rows);
  EXPECT_EQ(d.rows(), 3);
  EXPECT_GE(d.dense().minCoeff(), 0.0);
  EXPECT_LE(d.dense().maxCoeff(), 1.0);
  EXPECT_GT(d.dense().maxCoeff(), 0.9);  // some pixel near 255
  const auto labels = src->labels(Split::kTrain);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(d.labels()[i], labels[rows[static_cast<std::size_t>(i)]]);
}

TEST(Libsvm, ParsesAndAppliesTheLabelRule) {
  const auto dir = private_dir();
  write_text(dir + "/bin.txt",
             "# a comment line\n"
             "3 1:0.5 4:-1\n"
             "\n"
             "7 2:2e-1   3:4 # trailing comment\n"
             "3\n");
  const auto d = read_libsvm(dir + "/bin.txt");
  EXPECT_EQ(d.train.rows(), 3);
  EXPECT_EQ(d.train.cols(), 4);
  EXPECT_TRUE(d.train.sparse());
  EXPECT_EQ(d.train.task(), Task::kBinary);
  EXPECT_EQ(d.train.labels(), (Vector(3) << -1, 1, -1).finished());
  EXPECT_EQ(d.train.csr().coeff(0, 0), 0.5);
  EXPECT_EQ(d.train.csr().coeff(0, 3), -1.0);
  EXPECT_EQ(d.train.csr().coeff(1, 1), 0.2);
  EXPECT_EQ(d.train.csr().coeff(1, 2), 4.0);
  EXPECT_EQ(d.train.csr().nonZeros(), 4);
  EXPECT_EQ(d.test.rows(), 0);

  write_text(dir + "/multi.txt", "1 1:1\n5 1:2\n3 2:1\n");
  const auto m = read_libsvm(dir + "/multi.txt");
  EXPECT_EQ(m.train.task(), Task::kMulticlass);
  EXPECT_EQ(m.train.n_classes(), 3);
  EXPECT_EQ(m.train.labels(), (Vector(3) << 0, 2, 1).finished());
  // A test file shares the rule and the width.
  write_text(dir + "/multi_test.txt", "3 7:1\n");
  const auto mt = read_libsvm(dir + "/multi.txt", dir + "/multi_test.txt");
  EXPECT_EQ(mt.train.cols(), 7);
  EXPECT_EQ(mt.test.cols(), 7);
  EXPECT_EQ(mt.test.labels()[0], 1);

  write_text(dir + "/reg.txt", "0.5 1:1\n1.5 1:2\n2 2:1\n");
  const auto r = read_libsvm(dir + "/reg.txt");
  EXPECT_EQ(r.train.task(), Task::kRegression);
  EXPECT_EQ(r.train.labels()[1], 1.5);
  EXPECT_EQ(read_libsvm(dir + "/multi.txt", "", Task::kRegression).train.labels()[1], 5.0);
  EXPECT_CONTAINS(error_of<InputError>([&] { read_libsvm(dir + "/multi.txt", "", Task::kBinary); }),
                  "exactly two");
}

TEST(Libsvm, BadLinesAreNamed) {
  const auto dir = private_dir();
  const std::vector<std::pair<std::string, std::string>> cases{
      {"1 1:1\n-1 2:1\n1 3:x\n", "line 3: bad value"},
      {"1 1:1\n1 0:2\n", "line 2: feature index 0"},
      {"1 3:1 2:1\n", "line 1: feature indices must increase"},
      {"1 1:1\nabc 1:1\n", "line 2: bad label 'abc'"},
      {"1 1:1 7\n", "line 1: expected index:value, got '7'"},
  };
  for (const auto& [text, want] : cases) {
    write_text(dir + "/bad.txt", text);
    const auto msg = error_of<FileError>([&] { parse_libsvm(dir + "/bad.txt"); });
    EXPECT_CONTAINS(msg, want);
    EXPECT_CONTAINS(msg, "bad.txt");
  }
}

// ---------------------------------------------------------------- bounded inputs

TEST(MemoryBudget, ProductsOverflowAndSizesParse) {
  EXPECT_EQ(checked_mul(1u << 20, 1u << 20), std::uint64_t{1} << 40);
  EXPECT_FALSE(checked_mul(std::uint64_t{1} << 32, std::uint64_t{1} << 32));
  EXPECT_FALSE(checked_mul(4294967295u, checked_mul(4294967295u, 60000).value_or(0)));
  EXPECT_EQ(checked_mul(0, ~std::uint64_t{0}), 0u);
  EXPECT_EQ(parse_memory_size("max-memory", "auto"), 0u);
  EXPECT_EQ(parse_memory_size("max-memory", "512"), 512u);
  EXPECT_EQ(parse_memory_size("max-memory", "1K"), 1024u);
  EXPECT_EQ(parse_memory_size("max-memory", "2MiB"), 2u << 20);
  EXPECT_EQ(parse_memory_size("max-memory", "1.5g"), 3u << 29);
  EXPECT_EQ(parse_memory_size("max-memory", "1T"), std::uint64_t{1} << 40);
  for (const char* bad : {"12X", "-1", "0", "G", "1KX", "1e30"}) {
    SCOPED_TRACE(bad);
    try {
      parse_memory_size("max-memory", bad);
      ADD_FAILURE() << "expected a ConfigError";
    } catch (const ConfigError& e) {
      EXPECT_EQ(e.key(), "max-memory");
    }
  }
  EXPECT_EQ(format_bytes(800000000000), "745 GiB");
  EXPECT_EQ(format_bytes(1024), "1.00 KiB");
  EXPECT_EQ(format_bytes(12), "12 B");
  EXPECT_GT(default_max_memory(), 0u);
  EXPECT_EQ(effective_max_memory(0), default_max_memory());
  EXPECT_FALSE(memory_excess("x", 1000, 8, 8000));
  EXPECT_CONTAINS(*memory_excess("x", 1001, 8, 8000),
                  "x needs 7.82 KiB, more than --max-memory 7.81 KiB");
  EXPECT_CONTAINS(*memory_excess("x", std::uint64_t{1} << 62, 8, 0), "more than 2^64 bytes");
}

TEST(Libsvm, SizesAndValuesAreBounded) {
  const auto dir = private_dir();
  const auto path = dir + "/bounds.txt";
  const std::vector<std::pair<std::string, std::string>> cases{
      {"1 1:1\n-1 100000000000:1\n",
       "line 2: feature index 100000000000: a 100000000000-dimensional"},
      {"1 99999999999999999999:1\n",
       "line 1: feature index 99999999999999999999 does not fit in 64 bits"},
      {"1 1:1 2:inf\n", "line 1: feature 2 is inf"},
      {"1 1:1\n-nan 2:1\n", "line 2: label -nan"},
  };
  for (const auto& [text, want] : cases) {
    write_text(path, text);
    const auto msg = error_of<FileError>([&] { parse_libsvm(path); });
    EXPECT_CONTAINS(msg, want);
    EXPECT_CONTAINS(msg, "bounds.txt");
  }
  // A 5e7-dimensional model (400 MB) is accepted within the budget and refused beyond it; the
  // CSR matrix itself stays small either way.
  write_text(path, "1 1:1\n-1 50000000:1\n");
  EXPECT_EQ(parse_libsvm(path, std::uint64_t{1} << 30).X.cols(), 50000000);
  EXPECT_CONTAINS(error_of<FileError>([&] { parse_libsvm(path, 100 << 20); }),
                  "more than --max-memory 100 MiB");
  // Nonzeros: 16 bytes each, refused at the line that crosses the budget.
  write_text(path, "1 1:1 2:1\n1 1:1 2:1\n1 1:1 2:1\n");
  EXPECT_CONTAINS(error_of<FileError>([&] { parse_libsvm(path, 70); }), "line 3: the 6 nonzeros");
  EXPECT_CONTAINS(error_of<FileError>([&] { read_libsvm(path, "", std::nullopt, 1000, 1024); }),
                  "features=1000");
}

TEST(Idx, DimensionsAreCheckedBeforeAllocating) {
  const auto dir = private_dir();
  const auto write_idx = [&](const std::vector<std::uint32_t>& dims) {
    std::ofstream f(dir + "/dims.idx", std::ios::binary);
    f.put(0).put(0).put(8).put(static_cast<char>(dims.size()));
    for (auto d : dims) {
      for (int s = 24; s >= 0; s -= 8) f.put(static_cast<char>((d >> s) & 0xff));
    }
  };
  write_idx({60000, 4294967295u, 4294967295u});
  EXPECT_CONTAINS(error_of<FileError>([&] { read_idx(dir + "/dims.idx"); }),
                  "IDX dimensions 60000 x 4294967295 x 4294967295 overflow 64 bits");
  write_idx({1000, 1000, 1000});
  EXPECT_CONTAINS(error_of<FileError>([&] { read_idx(dir + "/dims.idx", 1 << 20); }),
                  "more than --max-memory 1.00 MiB");
  write_idx({2, 2});  // within bounds: the (missing) data are the next problem
  EXPECT_CONTAINS(error_of<FileError>([&] { read_idx(dir + "/dims.idx"); }), "truncated");
}

TEST(LocalData, BatchSizeLargerThanEveryShardIsRefused) {
  LocalData d;
  d.agent_rows = {5, 9, 7};
  d.check_batch_size(0);
  d.check_batch_size(9);
  try {
    d.check_batch_size(10);
    ADD_FAILURE() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key(), "batch-size");
    EXPECT_CONTAINS(e.what(), "largest shard (9 rows over 3 agents)");
  }
}

// ---------------------------------------------------------------- dataset files

TEST(DatasetFile, RoundTripDenseFloat32AndCsr) {
  const auto dir = private_dir();
  auto gen = make_synthetic("synthetic:logistic:n=300,dim=6,test=0.1", {.seed = 5});
  const auto train = gen->generate_all(Split::kTrain);
  const auto test = gen->generate_all(Split::kTest);
  std::vector<Index> owner(static_cast<std::size_t>(train.rows()));
  for (std::size_t i = 0; i < owner.size(); ++i) owner[i] = static_cast<Index>(i % 3);
  write_dataset_file(dir + "/f64.h5", train, test, owner, {.attributes = {{"source", "unit test"}}});
  write_dataset_file(dir + "/f32.h5", train, test, {}, {.storage = h5::Type::kFloat32, .layout = {.chunk_rows = 16, .gzip = 3}});
  DatasetFile f64(dir + "/f64.h5"), f32(dir + "/f32.h5");
  EXPECT_EQ(f64.task(), Task::kBinary);
  EXPECT_EQ(f64.n_features(), 6);
  EXPECT_EQ(f64.rows(Split::kTrain), 270);
  EXPECT_EQ(f64.rows(Split::kTest), 30);
  EXPECT_TRUE(f64.has_owner());
  EXPECT_FALSE(f32.has_owner());
  EXPECT_EQ(f64.owner(), owner);
  EXPECT_EQ(f64.storage(), h5::Type::kFloat64);
  EXPECT_EQ(f32.storage(), h5::Type::kFloat32);
  EXPECT_EQ(f64.extra_attributes().at("source"), "unit test");
  EXPECT_EQ(f64.read_all(Split::kTrain).dense(), train.dense());
  EXPECT_EQ(f64.read_all(Split::kTest).labels(), test.labels());
  EXPECT_EQ(f32.read_all(Split::kTrain).dense(), train.dense().cast<float>().cast<double>());
  const std::vector<Index> rows{3, 4, 100, 269};
  EXPECT_EQ(f64.read(Split::kTrain, rows).dense(), train.select(rows).dense());

  // CSR.
  write_text(dir + "/s.txt", "1 1:1 3:2\n-1 2:0.5\n1\n-1 1:-3 2:4 3:5\n");
  const auto sp = read_libsvm(dir + "/s.txt");
  write_dataset_file(dir + "/csr.h5", sp.train, sp.test, {});
  DatasetFile fc(dir + "/csr.h5");
  EXPECT_TRUE(fc.sparse());
  EXPECT_FALSE(fc.has_test());
  const auto back = fc.read_all(Split::kTrain);
  EXPECT_TRUE(back.sparse());
  EXPECT_TRUE(back.csr().isApprox(sp.train.csr()));
  EXPECT_EQ(RowMatrix(back.csr()), RowMatrix(sp.train.csr()));
  const std::vector<Index> two{1, 3};
  EXPECT_EQ(RowMatrix(fc.read(Split::kTrain, two).csr()), RowMatrix(sp.train.select(two).csr()));
}

TEST(DatasetFile, MalformedFilesAreNamed) {
  const auto dir = private_dir();
  EXPECT_CONTAINS(error_of<FileError>([&] { DatasetFile f(dir + "/missing.h5"); }), "no such file");
  {  // no /train/X
    auto f = h5::File::create(dir + "/nox.h5");
    f.set_attr("schema_version", std::int64_t{1});
    f.set_attr("task", "regression");
    f.set_attr("n_features", std::int64_t{3});
    f.set_attr("n_classes", std::int64_t{1});
    const std::vector<double> y{1, 2};
    f.write("/train/y", std::span<const double>(y));
    f.commit();
  }
  EXPECT_CONTAINS(error_of<FileError>([&] { DatasetFile f(dir + "/nox.h5"); }), "missing dataset /train/X");
  {  // n_features disagrees with /train/X
    auto f = h5::File::create(dir + "/width.h5");
    f.set_attr("schema_version", std::int64_t{1});
    f.set_attr("task", "regression");
    f.set_attr("n_features", std::int64_t{4});
    f.set_attr("n_classes", std::int64_t{1});
    f.write_matrix("/train/X", RowMatrix::Ones(2, 3));
    const std::vector<double> y{1, 2};
    f.write("/train/y", std::span<const double>(y));
    f.commit();
  }
  const auto width = error_of<FileError>([&] { DatasetFile f(dir + "/width.h5"); });
  EXPECT_CONTAINS(width, "/train/X has 3 columns");
  EXPECT_CONTAINS(width, "n_features = 4");
  {  // labels outside the classes, too few labels in test, bad task
    auto f = h5::File::create(dir + "/labels.h5");
    f.set_attr("schema_version", std::int64_t{1});
    f.set_attr("task", "multiclass");
    f.set_attr("n_features", std::int64_t{3});
    f.set_attr("n_classes", std::int64_t{3});
    f.write_matrix("/train/X", RowMatrix::Ones(2, 3));
    const std::vector<double> y{1, 5};
    f.write("/train/y", std::span<const double>(y));
    f.commit();
  }
  DatasetFile lf(dir + "/labels.h5");
  const auto bad_label = error_of<FileError>([&] { lf.labels(Split::kTrain); });
  EXPECT_CONTAINS(bad_label, "/train/y[1]");
  EXPECT_CONTAINS(bad_label, "0..2");
  {
    auto f = h5::File::create(dir + "/ylen.h5");
    f.set_attr("schema_version", std::int64_t{1});
    f.set_attr("task", "binary");
    f.set_attr("n_features", std::int64_t{3});
    f.set_attr("n_classes", std::int64_t{3});
    f.commit();
  }
  EXPECT_CONTAINS(error_of<FileError>([&] { DatasetFile f(dir + "/ylen.h5"); }), "n_classes = 3 does not fit task 'binary'");
  {
    auto f = h5::File::create(dir + "/nover.h5");
    f.set_attr("task", "binary");
    f.commit();
  }
  EXPECT_CONTAINS(error_of<FileError>([&] { DatasetFile f(dir + "/nover.h5"); }), "schema_version");
}

// ---------------------------------------------------------------- synthetic data

TEST(Synthetic, RowsDoNotDependOnWhatElseIsGenerated) {
  for (const char* spec : {"synthetic:fedprox:clients=7,size_sigma=1", "synthetic:least-squares:n=200,dim=5",
                           "synthetic:logistic:n=200,dim=5"}) {
    auto g = make_synthetic(spec, {.seed = 11, .test_fraction = 0.25});
    for (Split s : {Split::kTrain, Split::kTest}) {
      const auto all = g->generate_all(s);
      ASSERT_GT(all.rows(), 0) << spec;
      std::vector<Index> some{all.rows() - 1};
      for (Index r = 1; r < all.rows() - 1; r += 13) some.insert(some.end() - 1, r);
      const auto part = g->generate(s, some);
      EXPECT_EQ(part.dense(), all.select(some).dense()) << spec;
      EXPECT_EQ(part.labels(), all.select(some).labels()) << spec;
      EXPECT_EQ(g->labels(s), all.labels()) << spec;
    }
  }
  auto a = make_synthetic("synthetic:least-squares:n=50", {.seed = 1});
  auto b = make_synthetic("synthetic:least-squares:n=50", {.seed = 2});
  EXPECT_NE(a->generate_all(Split::kTrain).labels(), b->generate_all(Split::kTrain).labels());
}

TEST(Synthetic, FedProxStructure) {
  auto g = make_synthetic("synthetic:fedprox:alpha=0.5,beta=0.5,clients=12,test=0.2", {.seed = 3});
  EXPECT_EQ(g->n_features(), 60);
  EXPECT_EQ(g->n_classes(), 10);
  EXPECT_EQ(g->task(), Task::kMulticlass);
  const auto owner = g->natural_owner();
  EXPECT_EQ(static_cast<Index>(owner.size()), g->rows(Split::kTrain));
  std::map<Index, Index> sizes;
  for (Index o : owner) ++sizes[o];
  EXPECT_EQ(sizes.size(), 12u);
  Index total = 0;
  for (const auto& [k, n] : sizes) {
    EXPECT_GE(n, 40) << "client " << k;  // >= 50 samples, 80% for training
    total += n;
  }
  EXPECT_NEAR(static_cast<double>(g->rows(Split::kTest)) / (total + g->rows(Split::kTest)), 0.2, 0.01);
  const auto y = g->labels(Split::kTrain);
  EXPECT_GE(y.minCoeff(), 0);
  EXPECT_LE(y.maxCoeff(), 9);
  // Clients differ (heterogeneous means): the mean feature vector of two clients is far apart.
  const auto d = g->generate_all(Split::kTrain);
  EXPECT_GT((d.dense().topRows(sizes[0]).colwise().mean() -
             d.dense().middleRows(sizes[0], sizes[1]).colwise().mean()).norm(), 1.0);
  EXPECT_EQ(make_synthetic("synthetic:fedprox", {.clients = 5})->natural_owner().back(), 4);
}

TEST(Synthetic, SpecErrorsNameTheProblem) {
  const auto err = [](const std::string& spec) {
    return error_of<ConfigError>([&] { make_synthetic(spec, {}); });
  };
  EXPECT_CONTAINS(err("synthetic:gaussian"), "unknown synthetic kind 'gaussian'");
  EXPECT_CONTAINS(err("synthetic:fedprox:alpah=1"), "unknown key 'alpah'");
  EXPECT_CONTAINS(err("synthetic:fedprox:alpha=one"), "alpha expects a number, got 'one'");
  EXPECT_CONTAINS(err("synthetic:least-squares:n=-4"), "n must be at least 2");
  EXPECT_CONTAINS(err("synthetic:logistic:test=1.5"), "test=1.5 is outside [0, 1)");
  EXPECT_CONTAINS(err("synthetic:logistic:dim"), "expected key=value");
  EXPECT_CONTAINS(err("synthetic:logistic:n=1"), "--data: synthetic:logistic: n must be at least 2");
}

// ---------------------------------------------------------------- partitions

TEST(Partition, EverySampleExactlyOnce) {
  auto g = make_synthetic("synthetic:fedprox:clients=10,size_sigma=0.5", {.seed = 4});
  const Vector y = g->labels(Split::kTrain);
  const auto natural = g->natural_owner();
  const Index n = y.size();
  for (const std::string spec :
       {"iid", "contiguous", "dirichlet:0.1", "dirichlet:10", "dirichlet-prior:0.1",
        "dirichlet-prior:10", "shards:2", "shards:1", "natural"}) {
    for (Index agents : {1, 3, 10, 37}) {
      if (spec == "natural" && agents != 10) continue;
      PartitionInput in{.samples = n, .labels = &y, .task = Task::kMulticlass, .n_classes = 10, .natural = natural};
      const auto p = make_partition(spec, agents, 9, in);
      ASSERT_EQ(p.agents(), agents);
      std::vector<int> seen(static_cast<std::size_t>(n), 0);
      Index total = 0;
      for (Index a = 0; a < agents; ++a) {
        EXPECT_GT(p.count(a), 0) << spec << " N=" << agents << " agent " << a;
        for (Index r : p.rows(a)) {
          ++seen[static_cast<std::size_t>(r)];
          EXPECT_EQ(p.owner()[static_cast<std::size_t>(r)], a);
        }
        total += p.count(a);
      }
      EXPECT_EQ(total, n);
      EXPECT_TRUE(std::all_of(seen.begin(), seen.end(), [](int s) { return s == 1; })) << spec << " N=" << agents;
      // Same inputs, same partition; iid chunks balanced; contiguous in order.
      EXPECT_EQ(make_partition(spec, agents, 9, in).owner(), p.owner());
      if (spec == "iid" || spec == "contiguous" || spec.starts_with("dirichlet-prior")) {
        for (Index a = 0; a < agents; ++a) EXPECT_LE(std::abs(p.count(a) - n / agents), 1);
      }
      if (spec == "contiguous") {
        EXPECT_TRUE(std::is_sorted(p.owner().begin(), p.owner().end()));
      }
      if (spec == "natural") {
        EXPECT_EQ(p.owner(), natural);
      }
    }
  }
  PartitionInput in{.samples = n, .labels = &y, .task = Task::kMulticlass, .n_classes = 10};
  EXPECT_NE(make_partition("iid", 5, 1, in).owner(), make_partition("iid", 5, 2, in).owner());
}

TEST(Partition, DirichletApproachesIidAsAlphaGrows) {
  // 10 balanced classes, 3000 samples, 20 agents.
  const Index n = 3000, C = 10, N = 20;
  Vector y(n);
  for (Index i = 0; i < n; ++i) y[i] = static_cast<double>((i * 7) % C);
  PartitionInput in{.samples = n, .labels = &y, .task = Task::kMulticlass, .n_classes = C};
  double previous = 2.0;
  for (double alpha : {0.05, 0.5, 5.0, 500.0}) {
    double tv_sum = 0;
    const int seeds = 3;
    for (int seed = 0; seed < seeds; ++seed) {
      const auto p = make_partition("dirichlet:" + std::to_string(alpha), N, static_cast<std::uint64_t>(seed), in);
      double tv = 0;
      for (Index a = 0; a < N; ++a) {
        std::vector<double> h(static_cast<std::size_t>(C), 0);
        for (Index r : p.rows(a)) h[static_cast<std::size_t>(y[r])] += 1.0 / static_cast<double>(p.count(a));
        double d = 0;
        for (double v : h) d += std::abs(v - 1.0 / static_cast<double>(C));
        tv += 0.5 * d;
      }
      tv_sum += tv / N;
    }
    const double tv = tv_sum / seeds;
    EXPECT_LT(tv, previous) << "alpha=" << alpha;
    if (alpha == 0.05) {
      EXPECT_GT(tv, 0.6);
    }
    if (alpha == 500.0) {
      EXPECT_LT(tv, 0.15);
    }
    previous = tv;
  }
}

TEST(Partition, DirichletPriorGivesNSamplesPerAgentFollowingItsDrawnPrior) {
  // FL-Simulator's split: 50 agents × 400 samples over 5 balanced classes (4000 each).
  const Index C = 5, N = 50, per = 400, n = N * per;
  Vector y(n);
  for (Index i = 0; i < n; ++i) y[i] = static_cast<double>((i * 3) % C);
  PartitionInput in{.samples = n, .labels = &y, .task = Task::kMulticlass, .n_classes = C};
  const double alpha = 1.0;
  const std::uint64_t seed = 8;
  const auto p = make_partition("dirichlet-prior:1", N, seed, in);
  const auto prior = dirichlet_label_priors(alpha, N, C, seed);
  ASSERT_EQ(static_cast<Index>(prior.size()), N);
  // Priors: on the simplex, mean 1/C per class (sd of the mean over 50 agents: 0.023).
  std::vector<double> mean_prior(static_cast<std::size_t>(C), 0);
  for (const auto& q : prior) {
    double s = 0;
    for (Index c = 0; c < C; ++c) {
      EXPECT_GE(q[static_cast<std::size_t>(c)], 0.0);
      s += q[static_cast<std::size_t>(c)];
      mean_prior[static_cast<std::size_t>(c)] += q[static_cast<std::size_t>(c)] / N;
    }
    EXPECT_NEAR(s, 1.0, 1e-12);
  }
  for (double m : mean_prior) EXPECT_NEAR(m, 1.0 / C, 0.1);
  // Every agent exactly `per` samples; its class histogram close to its own prior (a sample's
  // class comes from the prior until a class runs out, late in the draw), far from the others'.
  auto tv = [&](Index a, const std::vector<double>& q) {
    std::vector<double> h(static_cast<std::size_t>(C), 0);
    for (Index r : p.rows(a)) h[static_cast<std::size_t>(y[r])] += 1.0 / per;
    double d = 0;
    for (Index c = 0; c < C; ++c)
      d += std::abs(h[static_cast<std::size_t>(c)] - q[static_cast<std::size_t>(c)]);
    return 0.5 * d;
  };
  double own = 0, other = 0;
  for (Index a = 0; a < N; ++a) {
    EXPECT_EQ(p.count(a), per) << "agent " << a;
    own += tv(a, prior[static_cast<std::size_t>(a)]) / N;
    other += tv(a, prior[static_cast<std::size_t>((a + 1) % N)]) / N;
  }
  EXPECT_LT(own, 0.08) << "mean TV distance to the agent's own prior";
  EXPECT_GT(other, 4 * own) << "mean TV distance to another agent's prior";
  std::printf("dirichlet-prior:1, 50 x 400: mean TV to own prior %.4f, to another's %.4f\n", own,
              other);
  // Small alpha: priors nearly one-hot, so most of an agent's samples are of one class (measured
  // 0.79: about 10 agents want each class, and those whose class runs out get the classes left).
  const auto q = make_partition("dirichlet-prior:0.01", N, seed, in);
  double top = 0;
  for (Index a = 0; a < N; ++a) {
    std::vector<Index> h(static_cast<std::size_t>(C), 0);
    for (Index r : q.rows(a)) ++h[static_cast<std::size_t>(y[r])];
    top += static_cast<double>(*std::max_element(h.begin(), h.end())) / per / N;
  }
  EXPECT_GT(top, 0.7);
  EXPECT_NE(make_partition("dirichlet-prior:1", N, seed + 1, in).owner(), p.owner());
}

TEST(Partition, ShardsGiveAtMostCClassesPerAgent) {
  const Index n = 2000, C = 10;
  Vector y(n);
  // Unbalanced classes: class c has weight c+1.
  Index i = 0;
  for (Index c = 0; c < C && i < n; ++c) {
    for (Index k = 0; k < (c + 1) * n / 55 && i < n; ++k) y[i++] = static_cast<double>(c);
  }
  for (; i < n; ++i) y[i] = C - 1;
  PartitionInput in{.samples = n, .labels = &y, .task = Task::kMulticlass, .n_classes = C};
  for (Index c : {1, 2, 3}) {
    for (Index agents : {10, 25, 100}) {
      const auto p = make_partition("shards:" + std::to_string(c), agents, 5, in);
      for (Index a = 0; a < agents; ++a) {
        std::set<double> classes;
        for (Index r : p.rows(a)) classes.insert(y[r]);
        EXPECT_LE(static_cast<Index>(classes.size()), c) << "agent " << a << " of " << agents;
        EXPECT_GE(classes.size(), 1u);
      }
    }
  }
}

TEST(Partition, Errors) {
  Vector y = Vector::Zero(10);
  PartitionInput in{.samples = 10, .labels = &y, .task = Task::kMulticlass, .n_classes = 2};
  const auto err = [&](const std::string& spec, Index agents) {
    return error_of<ConfigError>([&] { make_partition(spec, agents, 0, in); });
  };
  EXPECT_CONTAINS(err("random", 2), "unknown partition 'random'");
  EXPECT_CONTAINS(err("iid", 11), "11 agents but only 10");
  EXPECT_CONTAINS(err("dirichlet", 2), "needs a concentration");
  EXPECT_CONTAINS(err("dirichlet:-1", 2), "alpha=-1 is outside (0, inf]");
  EXPECT_CONTAINS(err("dirichlet-prior", 2), "needs a concentration");
  EXPECT_CONTAINS(err("dirichlet-prior:0", 2), "alpha=0 is outside (0, inf]");
  EXPECT_CONTAINS(err("shards:x", 2), "c expects a number");
  EXPECT_CONTAINS(err("shards:3", 4), "needs at least 12 samples");
  EXPECT_CONTAINS(err("natural", 2), "natural needs data with its own split");
  EXPECT_CONTAINS(err("iid:3", 2), "takes no argument");
  const std::vector<Index> natural{0, 0, 1, 1, 1, 2, 2, 2, 2, 2};
  in.natural = natural;
  EXPECT_CONTAINS(err("natural", 4), "--agents must be 3");
}

// ---------------------------------------------------------------- loading

namespace {

/// Checksums of every agent's shard, gathered over the ranks in agent order.
std::vector<double> gathered_checksums(const LocalData& d, Communicator& comm) {
  std::vector<double> mine;
  for (Index a = d.first_agent; a < d.first_agent + d.local_agents(); ++a) mine.push_back(checksum(d.shard(a)));
  return comm.allgatherv(std::span<const double>(mine));
}

}  // namespace

TEST(Load, SameRowsPerAgentAtAnyRankCount) {
  auto comm = Communicator::world();
  const auto dir = shared_dir();
  // A dense float32 file with its own partition, a CSR file, and generated data.
  if (comm.is_root()) {
    auto g = make_synthetic("synthetic:fedprox:clients=9,size_sigma=0.5,test=0", {.seed = 8});
    const auto train = g->generate_all(Split::kTrain);
    write_dataset_file(dir + "/dense.h5", train, Dataset::empty(60, false, Task::kMulticlass, 10),
                       g->natural_owner(), {.storage = h5::Type::kFloat32, .layout = {.chunk_rows = 50}});
    std::ofstream txt(dir + "/sparse.txt");
    for (int i = 0; i < 400; ++i) {
      txt << (i % 3 == 0 ? 1 : -1);
      for (int j = 1 + i % 4; j <= 30; j += 1 + (i * j) % 5) txt << ' ' << j << ':' << (i + j) % 11 - 5;
      txt << '\n';
    }
    txt.close();
    write_dataset_file(dir + "/sparse.h5", read_libsvm(dir + "/sparse.txt").train, Dataset::empty(30, true, Task::kBinary, 2), {});
  }
  comm.barrier();
  struct Case {
    std::string data, partition;
    Index agents;
  };
  const std::vector<Case> cases{
      {dir + "/dense.h5", "dirichlet:0.3", 7},  {dir + "/dense.h5", "natural", 9},
      {dir + "/sparse.h5", "iid", 6},           {dir + "/sparse.h5", "shards:1", 5},
      {"libsvm:" + dir + "/sparse.txt", "contiguous", 4},
      {"synthetic:fedprox:clients=5,size_sigma=0.5", "natural", 5},
      {"synthetic:least-squares:n=300,dim=4", "iid", 11},
  };
  for (const auto& c : cases) {
    DataSpec spec{.data = c.data, .partition = c.partition, .seed = 21, .test_fraction = 0.25};
    const Placement pl(c.agents, comm.size(), comm.rank());
    const auto d = load_data(spec, pl, comm);
    const auto single = load_local(spec, Placement(c.agents, 1, 0));
    const auto sums = gathered_checksums(d, comm);
    ASSERT_EQ(static_cast<Index>(sums.size()), c.agents);
    for (Index a = 0; a < c.agents; ++a) {
      EXPECT_EQ(sums[static_cast<std::size_t>(a)], checksum(single.shard(a))) << c.data << " " << c.partition << " agent " << a;
      EXPECT_EQ(d.agent_rows[static_cast<std::size_t>(a)], single.shard(a).rows());
    }
    // Shards are whole: local rows = sum of local agents' counts, and totals add up.
    Index local = 0;
    for (Index a = d.first_agent; a < d.first_agent + d.local_agents(); ++a) local += d.agent_rows[static_cast<std::size_t>(a)];
    EXPECT_EQ(local, d.train.rows());
    EXPECT_EQ(comm.allreduce_sum(static_cast<std::int64_t>(d.train.rows())), d.total_train);
    // Test rows: contiguous slices that add up to the single-process test set.
    EXPECT_EQ(comm.allreduce_sum(static_cast<std::int64_t>(d.test.rows())), single.total_test);
    EXPECT_GT(single.total_test, 0) << c.data;
    const auto slice = single.test.block(d.test_first, d.test.rows());
    EXPECT_EQ(checksum(d.test.all()), checksum(slice)) << c.data;
    EXPECT_EQ(d.n_features, single.n_features);
    EXPECT_EQ(d.task, single.task);
  }
}

TEST(Load, HoldoutAndStoredTestSets) {
  auto comm = Communicator::world();
  const Placement pl(4, comm.size(), comm.rank());
  // No test set in the source: test_fraction of the rows are held out (0 keeps all of them).
  DataSpec spec{.data = "synthetic:least-squares:n=200,dim=3,test=0", .partition = "iid", .seed = 2, .test_fraction = 0.25};
  const auto held = load_data(spec, pl, comm);
  EXPECT_EQ(held.total_train, 150);
  EXPECT_EQ(held.total_test, 50);
  spec.test_fraction = 0.0;
  const auto all = load_data(spec, pl, comm);
  EXPECT_EQ(all.total_train, 200);
  EXPECT_EQ(all.total_test, 0);
  EXPECT_EQ(all.test.rows(), 0);
  // A source with a test set keeps it and all its training rows.
  spec.data = "synthetic:logistic:n=200,dim=3,test=0.1";
  spec.test_fraction = 0.5;
  const auto own = load_data(spec, pl, comm);
  EXPECT_EQ(own.total_train, 180);
  EXPECT_EQ(own.total_test, 20);
  EXPECT_EQ(own.task, Task::kBinary);
  double w = 0;
  for (Index a = 0; a < own.agents(); ++a) w += own.weight(a);
  EXPECT_NEAR(w, 1.0, 1e-15);
}

TEST(Load, BadInputIsReportedOnEveryRank) {
  auto comm = Communicator::world();
  const Placement pl(2, comm.size(), comm.rank());
  const auto msg = [&](DataSpec spec) {
    return error_of<InputError>([&] { load_data(spec, pl, comm); });
  };
  EXPECT_CONTAINS(msg({.data = "/nonexistent/data.h5"}), "/nonexistent/data.h5: no such file");
  EXPECT_CONTAINS(msg({.data = "synthetic:least-squares:n=50", .partition = "bogus"}), "--partition: unknown partition 'bogus'");
  EXPECT_CONTAINS(msg({.data = "synthetic:least-squares:n=50", .test_fraction = 1.0}), "--test-fraction");
  // A file only one rank can see (as with a typo in one node's path) is still reported by all.
  const auto dir = private_dir();
  if (comm.rank() == 0) write_text(dir + "/only_here.txt", "1 1:1\n-1 1:2\n1 1:3\n-1 1:4\n");
  const std::string path = dir + "/only_here.txt";  // differs per rank: other ranks lack it
  if (comm.size() > 1) {
    EXPECT_CONTAINS(msg({.data = "libsvm:" + path, .test_fraction = 0}), "no such file");
  }
}

// ---------------------------------------------------------------- minibatches

TEST(Minibatch, DistinctRowsGatheredWithoutReallocation) {
  auto g = make_synthetic("synthetic:least-squares:n=500,dim=8,test=0", {.seed = 1});
  const auto d = g->generate_all(Split::kTrain);
  const auto shard = d.block(100, 300);
  MinibatchSampler s;
  RandomStream rng(1, 0, 0, Purpose::kMinibatch);
  const double* storage = nullptr;
  std::vector<int> hits(300, 0);
  for (int it = 0; it < 200; ++it) {
    const auto b = s.draw(shard, 32, rng);
    ASSERT_EQ(b.rows(), 32);
    const auto& idx = s.indices();
    for (std::size_t k = 0; k < idx.size(); ++k) {
      ASSERT_TRUE(k == 0 || idx[k] > idx[k - 1]);  // distinct, increasing
      ASSERT_LT(idx[k], 300);
      ++hits[static_cast<std::size_t>(idx[k])];
      ASSERT_EQ(b.dense().row(static_cast<Index>(k)), d.dense().row(100 + idx[k]));
      ASSERT_EQ(b.labels()[static_cast<Index>(k)], d.labels()[100 + idx[k]]);
    }
    if (it == 0) storage = b.dense().data();
    EXPECT_EQ(b.dense().data(), storage);  // scratch reused
  }
  // Roughly uniform: every row drawn, none far above the mean of 200*32/300 = 21.3.
  EXPECT_GT(*std::min_element(hits.begin(), hits.end()), 3);
  EXPECT_LT(*std::max_element(hits.begin(), hits.end()), 50);
  // A batch at least the shard size is the whole shard.
  EXPECT_EQ(s.draw(shard, 1000, rng).rows(), 300);
  // Sparse shards too.
  const auto dir = private_dir();
  write_text(dir + "/mb.txt", "1 1:1\n-1 2:2\n1 1:3 3:1\n-1 3:4\n1 2:5\n");
  const auto sp = read_libsvm(dir + "/mb.txt").train;
  const auto b = s.draw(sp.all(), 2, rng);
  EXPECT_TRUE(b.sparse());
  EXPECT_EQ(RowMatrix(b.csr()), RowMatrix(sp.select(s.indices()).csr()));
}
