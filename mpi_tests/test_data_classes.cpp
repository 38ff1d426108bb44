// fmnist:classes=A,B,...: the rows of the listed classes, in file order, relabelled by their
// position in the list (two classes: binary ±1). Checked against the raw IDX files read by an
// independent reader (gzip -dc and the header layout, not distopt's IDX reader), at any rank
// count through load_data, and with bad lists rejected naming classes=.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "distopt/comm/communicator.hpp"
#include "distopt/comm/placement.hpp"
#include "distopt/core/error.hpp"
#include "distopt/data/idx.hpp"
#include "distopt/data/load.hpp"
#include "distopt/data/source.hpp"
#include "distopt/model/objective.hpp"

using namespace distopt;

namespace {

/// The bytes of a gzip file, through the gzip program.
std::vector<unsigned char> gunzip(const std::string& path) {
  std::vector<unsigned char> out;
  FILE* p = popen(("gzip -dc '" + path + "'").c_str(), "r");
  if (!p) return out;
  unsigned char buf[1 << 16];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.insert(out.end(), buf, buf + n);
  pclose(p);
  return out;
}

/// One split of the raw files: labels (IDX1: 8-byte header) and 28×28 images (IDX3: 16 bytes).
struct Raw {
  std::vector<unsigned char> labels, pixels;  // pixels: 784 bytes per image
  explicit Raw(const std::string& prefix) {
    const std::string dir = std::string(kFashionMnistDir) + "/";
    labels = gunzip(dir + prefix + "-labels-idx1-ubyte.gz");
    pixels = gunzip(dir + prefix + "-images-idx3-ubyte.gz");
    labels.erase(labels.begin(), labels.begin() + std::min<std::size_t>(8, labels.size()));
    pixels.erase(pixels.begin(), pixels.begin() + std::min<std::size_t>(16, pixels.size()));
  }
};

const Raw& raw(Split s) {
  static const Raw train("train"), test("t10k");
  return s == Split::kTrain ? train : test;
}

template <class F>
std::string config_error_of(F&& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.key() + " | " + e.what();
  }
  return "(no ConfigError)";
}

/// Order-sensitive checksum of a shard (features and labels).
double checksum(const DataBlock& b) {
  const auto m = b.dense();
  double s = 0;
  for (Index i = 0; i < m.rows(); ++i) {
    for (Index j = 0; j < m.cols(); ++j) s += m(i, j) * static_cast<double>(1 + (i * 31 + j) % 7);
  }
  const auto y = b.labels();
  for (Index i = 0; i < y.size(); ++i) s += y[i] * static_cast<double>(i + 1);
  return s;
}

/// The source is read whole by every rank, so only load_data's split depends on the rank count:
/// the other tests run at 1 rank and are skipped at 2 and 4 (they would repeat the same reads).
#define ONLY_AT_ONE_RANK() \
  if (Communicator::world().size() > 1) GTEST_SKIP() << "rank-count independent"

}  // namespace

TEST(FmnistClasses, RawFilesHoldTheKnownCounts) {
  ONLY_AT_ONE_RANK();
  // The reference the other tests compare against: 6000 training and 1000 test images per class.
  for (const Split s : {Split::kTrain, Split::kTest}) {
    std::map<int, int> counts;
    for (const auto l : raw(s).labels) ++counts[l];
    ASSERT_EQ(counts.size(), 10u);
    for (const auto& [c, n] : counts)
      EXPECT_EQ(n, s == Split::kTrain ? 6000 : 1000) << "class " << c;
    EXPECT_EQ(raw(s).pixels.size(), raw(s).labels.size() * 784);
  }
}

TEST(FmnistClasses, KeepsTheListedClassesInFileOrderRelabelledInListOrder) {
  ONLY_AT_ONE_RANK();
  const std::vector<int> list{9, 2, 5};
  const auto src = open_source("fmnist:classes=9,2,5");
  EXPECT_EQ(src->task(), Task::kMulticlass);
  EXPECT_EQ(src->n_classes(), 3);
  EXPECT_EQ(src->n_features(), 784);
  EXPECT_NE(src->describe().find("classes=9,2,5"), std::string::npos) << src->describe();
  for (const Split s : {Split::kTrain, Split::kTest}) {
    const Index per_class = s == Split::kTrain ? 6000 : 1000;
    // The raw rows of the listed classes, in file order, with their expected new labels.
    std::vector<Index> file_rows;
    std::vector<double> want;
    for (std::size_t r = 0; r < raw(s).labels.size(); ++r) {
      for (std::size_t p = 0; p < list.size(); ++p) {
        if (raw(s).labels[r] == list[p])
          file_rows.push_back(static_cast<Index>(r)), want.push_back(static_cast<double>(p));
      }
    }
    ASSERT_EQ(src->rows(s), 3 * per_class);
    ASSERT_EQ(static_cast<Index>(file_rows.size()), 3 * per_class);
    const Vector y = src->labels(s);
    std::map<double, Index> counts;
    Index mismatches = 0;
    for (Index i = 0; i < y.size(); ++i) {
      ++counts[y[i]];
      mismatches += y[i] != want[static_cast<std::size_t>(i)];
    }
    EXPECT_EQ(mismatches, 0);
    EXPECT_EQ(counts,
              (std::map<double, Index>{{0.0, per_class}, {1.0, per_class}, {2.0, per_class}}));
    // Pixels of a spread of rows (first, last, every 97th) are the raw images' bytes / 255.
    std::vector<Index> rows;
    for (Index i = 0; i < src->rows(s); i += 97) rows.push_back(i);
    rows.push_back(src->rows(s) - 1);
    const auto d = src->read(s, rows);
    for (std::size_t k = 0; k < rows.size(); ++k) {
      const auto i = static_cast<std::size_t>(rows[k]);
      const auto* px = raw(s).pixels.data() + static_cast<std::size_t>(file_rows[i]) * 784;
      Index bad = 0;
      for (Index j = 0; j < 784; ++j) bad += d.dense()(static_cast<Index>(k), j) != px[j] / 255.0;
      ASSERT_EQ(bad, 0) << "row " << i << " (file row " << file_rows[i] << ")";
      EXPECT_EQ(d.labels()[static_cast<Index>(k)], want[i]);
    }
  }
}

TEST(FmnistClasses, NormalizeStandardisesAsTorchvision) {
  ONLY_AT_ONE_RANK();
  // The constants: over the raw training bytes, mean and std of x/255 are 0.2860 and 0.3530 to
  // the 4 digits torchvision pipelines use, so the standardised pixels have mean ~0 and std ~1.
  const auto& px = raw(Split::kTrain).pixels;
  double s1 = 0, s2 = 0;
  for (const unsigned char v : px) {
    const double x = v / 255.0;
    s1 += x;
    s2 += x * x;
  }
  const double n = static_cast<double>(px.size());
  const double mean = s1 / n, sd = std::sqrt(s2 / n - mean * mean);
  EXPECT_NEAR(mean, kFmnistMean, 5e-5);
  EXPECT_NEAR(sd, kFmnistStd, 5e-5);
  std::printf("fmnist train pixels /255: mean %.5f, std %.5f\n", mean, sd);
  // Rows: (raw/255 − 0.2860)/0.3530 bit for bit, labels as without the flag; the flag may come
  // before or after classes= and is named by describe().
  const auto plain = open_source("fmnist:classes=3,1");
  const auto whole = open_source("fmnist");
  for (const std::string& spec : std::vector<std::string>{
           "fmnist:normalize", "fmnist:classes=3,1:normalize", "fmnist:normalize:classes=3,1",
           "fmnist:" + std::string(kFashionMnistDir) + ":normalize"}) {
    const auto src = open_source(spec);
    EXPECT_NE(src->describe().find(":normalize"), std::string::npos) << src->describe();
    const bool filtered = spec.find("classes") != std::string::npos;
    const std::vector<Index> rows{0, 1, 777, src->rows(Split::kTest) - 1};
    const auto d = src->read(Split::kTest, rows);
    const auto ref = (filtered ? plain : whole)->read(Split::kTest, rows);
    Index bad = 0;
    for (Index k = 0; k < d.rows(); ++k) {
      for (Index j = 0; j < 784; ++j) {
        bad += d.dense()(k, j) != (ref.dense()(k, j) - kFmnistMean) / kFmnistStd;
      }
    }
    EXPECT_EQ(bad, 0) << spec;
    EXPECT_EQ(d.labels(), ref.labels()) << spec;
  }
  EXPECT_NE(config_error_of([] { open_source("fmnist:classes=1,2:classes=3,4"); }).find("data |"),
            std::string::npos);
}

TEST(FmnistClasses, TwoClassesAreBinaryFirstMinusOne) {
  ONLY_AT_ONE_RANK();
  const auto a = open_source("fmnist:classes=0,6");
  const auto b = open_source("fmnist:" + std::string(kFashionMnistDir) + ":classes=6,0");
  for (const auto* src : {a.get(), b.get()}) {
    EXPECT_EQ(src->task(), Task::kBinary);
    EXPECT_EQ(src->n_classes(), 2);
  }
  for (const Split s : {Split::kTrain, Split::kTest}) {
    const Index per_class = s == Split::kTrain ? 6000 : 1000;
    ASSERT_EQ(a->rows(s), 2 * per_class);
    ASSERT_EQ(b->rows(s), 2 * per_class);
    const Vector ya = a->labels(s), yb = b->labels(s);
    Index k = 0, plus = 0, bad = 0;
    for (std::size_t r = 0; r < raw(s).labels.size(); ++r) {
      const int l = raw(s).labels[r];
      if (l != 0 && l != 6) continue;
      bad += ya[k] != (l == 0 ? -1.0 : 1.0);  // classes=0,6: T-shirt -1, shirt +1
      bad += yb[k] != -ya[k];                 // classes=6,0: the same rows, opposite signs
      plus += ya[k] > 0;
      ++k;
    }
    EXPECT_EQ(k, 2 * per_class);
    EXPECT_EQ(bad, 0);
    EXPECT_EQ(plus, per_class);
  }
}

TEST(FmnistClasses, SameShardsAtAnyRankCount) {
  auto comm = Communicator::world();
  for (const std::string partition : {"contiguous", "iid"}) {
    const DataSpec spec{.data = "fmnist:classes=0,6", .partition = partition, .seed = 3};
    const Index agents = 20;
    const auto d = load_data(spec, Placement(agents, comm.size(), comm.rank()), comm);
    EXPECT_EQ(d.task, Task::kBinary);
    EXPECT_EQ(d.n_classes, 2);
    EXPECT_EQ(d.total_train, 12000);
    EXPECT_EQ(d.total_test, 2000);
    std::vector<double> mine;
    for (Index a = d.first_agent; a < d.first_agent + d.local_agents(); ++a)
      mine.push_back(checksum(d.shard(a)));
    const auto sums = comm.allgatherv(std::span<const double>(mine));
    const auto single = load_local(spec, Placement(agents, 1, 0));
    ASSERT_EQ(static_cast<Index>(sums.size()), agents);
    for (Index a = 0; a < agents; ++a) {
      EXPECT_EQ(single.shard(a).rows(), 600) << partition << " agent " << a;
      EXPECT_EQ(sums[static_cast<std::size_t>(a)], checksum(single.shard(a)))
          << partition << " agent " << a;
    }
  }
}

TEST(FmnistClasses, BadListsNameClasses) {
  ONLY_AT_ONE_RANK();
  const auto err = [](const std::string& spec) {
    return config_error_of([&] { open_source(spec); });
  };
  const std::map<std::string, std::string> cases{
      {"fmnist:classes=0,0", "data | --data: fmnist: classes=0,0: class 0 is given twice"},
      {"fmnist:classes=0,10", "data | --data: fmnist: classes=0,10: class 10 is outside 0..9"},
      {"fmnist:classes=-1,3", "data | --data: fmnist: classes=-1,3: class -1 is outside 0..9"},
      {"fmnist:classes=a,1",
       "data | --data: fmnist: classes=a,1: 'a' is not a class (expected integers in 0..9)"},
      {"fmnist:classes=1,,2",
       "data | --data: fmnist: classes=1,,2: '' is not a class (expected integers in 0..9)"},
      {"fmnist:classes=3", "data | --data: fmnist: classes=3: needs at least two classes"},
      {"fmnist:labels=0,1",
       "data | --data: fmnist: unknown key 'labels' (known: classes, normalize)"},
  };
  for (const auto& [spec, want] : cases) EXPECT_EQ(err(spec), want) << spec;
}

TEST(FmnistClasses, AutoProblemIsLogisticForAPairSoftmaxForMore) {
  ONLY_AT_ONE_RANK();
  // --problem auto decides by the task: a pair is binary (logistic takes it), three classes are
  // not.
  const auto pair = open_source("fmnist:classes=0,6");
  EXPECT_EQ(make_objective("auto", pair->n_features(), pair->n_classes(), pair->task(), {})->name(),
            "logistic");
  EXPECT_EQ(
      make_objective("logistic", pair->n_features(), pair->n_classes(), pair->task(), {})->dim(),
      784);
  const auto three = open_source("fmnist:classes=1,2,3");
  EXPECT_EQ(
      make_objective("auto", three->n_features(), three->n_classes(), three->task(), {})->name(),
      "softmax");
  EXPECT_EQ(config_error_of([&] {
              make_objective("logistic", three->n_features(), three->n_classes(), three->task(),
                             {});
            }).substr(0, 9),
            "problem |");
}
