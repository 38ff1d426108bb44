// Compressors (ALGORITHMS.md §2): each decode(encode(v)) against its definition, Top-k's
// contraction bound, unbiasedness of Rand-k, QSGD and natural compression by Monte Carlo, exact
// message lengths, option validation, and the compressed uplink's aggregation across ranks
// (decoded in agent order: the same bits at any rank count).
#include <gtest/gtest.h>

#include <cmath>

#include "distopt/comm/communicator.hpp"
#include "distopt/compress/compressed_uplink.hpp"
#include "distopt/compress/compressor.hpp"
#include "distopt/compress/identity.hpp"
#include "distopt/compress/natural.hpp"
#include "distopt/compress/qsgd.hpp"
#include "distopt/compress/rand_k.hpp"
#include "distopt/compress/scaled_sign.hpp"
#include "distopt/compress/top_k.hpp"
#include "distopt/core/error.hpp"
#include "distopt/core/random.hpp"

using namespace distopt;

namespace {

Vector random_vector(Index d, std::uint64_t seed) {
  RandomStream s(seed, 0, 0, Purpose::kUser);
  Vector v(d);
  for (Index i = 0; i < d; ++i) v[i] = s.normal() * std::exp(s.normal());  // varied magnitudes
  return v;
}

std::size_t encoded_size(Compressor& c, const Vector& v, const CompressKey& k) {
  std::vector<std::uint8_t> m;
  c.encode(v, k, m);
  return m.size();
}

/// Monte Carlo: mean of C(v) over `trials` independent keys (steps); returns the largest
/// per-coordinate deviation |mean_j − v_j| in units of the standard error bound `sigma_j`.
template <class F>
double max_z_score(Compressor& c, const Vector& v, int trials, F sigma) {
  Vector mean = Vector::Zero(v.size());
  for (int t = 0; t < trials; ++t) mean += c.apply(v, {7, 3, static_cast<std::uint64_t>(t)});
  mean /= trials;
  double worst = 0;
  for (Index j = 0; j < v.size(); ++j) {
    const double se = sigma(j) / std::sqrt(static_cast<double>(trials));
    if (se == 0) {
      EXPECT_EQ(mean[j], v[j]) << j;
    } else {
      worst = std::max(worst, std::abs(mean[j] - v[j]) / se);
    }
  }
  return worst;
}

}  // namespace

TEST(TopK, KeepsLargestMagnitudesLowerIndexWinsTies) {
  Vector v(6);
  v << 3, -5, 5, 1, -3, 0;
  TopK c(6, 3, WirePrecision::kFloat64);
  Vector expect(6);
  expect << 3, -5, 5, 0, 0, 0;  // |−5| = |5| both kept; |3| at index 0 beats |−3| at index 4
  EXPECT_EQ(c.apply(v, {}), expect);
  // Wire: k·(4-byte index + 8-byte value) = 36 bytes; float32 values: 24.
  EXPECT_EQ(encoded_size(c, v, {}), 36u);
  EXPECT_EQ(c.message_bytes(), 36u);
  TopK c32(6, 3, WirePrecision::kFloat32);
  EXPECT_EQ(encoded_size(c32, v, {}), 24u);
  TopK all(6, 6, WirePrecision::kFloat64);
  EXPECT_EQ(all.apply(v, {}), v);
}

TEST(TopK, ContractionBound) {
  for (Index d : {1, 7, 100, 1000}) {
    for (std::uint64_t seed = 1; seed <= 5; ++seed) {
      const Vector v = random_vector(d, seed);
      for (Index k : {Index{1}, std::max<Index>(1, d / 10), std::max<Index>(1, d / 2), d}) {
        TopK c(d, k, WirePrecision::kFloat64);
        const Vector cv = c.apply(v, {});
        EXPECT_EQ((cv.array() != 0).count(), std::min(k, (v.array() != 0).count()));
        const double lhs = (cv - v).squaredNorm();
        const double rhs = (1.0 - static_cast<double>(k) / static_cast<double>(d)) * v.squaredNorm();
        EXPECT_LE(lhs, rhs * (1 + 1e-12) + 1e-300) << "d=" << d << " k=" << k;
      }
    }
  }
}

TEST(TopK, LargeDimensionSelectionEqualsFullSort) {
  // d ≥ 65536 takes the sampled-threshold prefilter; it must select exactly what a full sort by
  // (magnitude desc, index asc) selects, ties included.
  const Index d = 200000;
  Vector v = random_vector(d, 21);
  for (Index i = 0; i < d; i += 7) v[i] = (i % 2 ? 1.0 : -1.0) * std::round(std::abs(v[i]));  // many ties
  for (Index k : {Index{1}, Index{2000}, Index{9000}}) {
    TopK c(d, k, WirePrecision::kFloat64);
    std::vector<Index> order(static_cast<std::size_t>(d));
    for (Index i = 0; i < d; ++i) order[static_cast<std::size_t>(i)] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](Index a, Index b) { return std::abs(v[a]) > std::abs(v[b]); });
    Vector expect = Vector::Zero(d);
    for (Index j = 0; j < k; ++j) expect[order[static_cast<std::size_t>(j)]] = v[order[static_cast<std::size_t>(j)]];
    EXPECT_EQ(c.apply(v, {}), expect) << "k=" << k;
  }
}

TEST(RandK, ValuesOnlyIndicesFromTheSharedStream) {
  const Index d = 50, k = 7;
  RandK c(d, k, WirePrecision::kFloat64);
  const Vector v = random_vector(d, 11);
  const CompressKey key{5, 2, 9};
  const auto idx = c.indices(key);
  ASSERT_EQ(static_cast<Index>(idx.size()), k);
  for (std::size_t i = 1; i < idx.size(); ++i) EXPECT_LT(idx[i - 1], idx[i]);
  Vector expect = Vector::Zero(d);
  for (Index i : idx) expect[i] = (static_cast<double>(d) / static_cast<double>(k)) * v[i];
  EXPECT_EQ(c.apply(v, key), expect);
  EXPECT_EQ(encoded_size(c, v, key), static_cast<std::size_t>(k) * 8);  // k values, no indices
  EXPECT_NE(c.indices({5, 3, 9}), idx) << "another agent draws other indices";
  EXPECT_NE(c.indices({5, 2, 10}), idx) << "another step draws other indices";
  EXPECT_DOUBLE_EQ(c.omega(), 50.0 / 7.0 - 1.0);
}

TEST(RandK, UnbiasedByMonteCarlo) {
  // Var of coordinate j: v_j²(d/k − 1). 40000 draws; |z| < 5 on all coordinates.
  const Index d = 20, k = 5;
  RandK c(d, k, WirePrecision::kFloat64);
  const Vector v = random_vector(d, 3);
  const double z = max_z_score(c, v, 40000, [&](Index j) { return std::abs(v[j]) * std::sqrt(c.omega()); });
  EXPECT_LT(z, 5.0);
}

TEST(Qsgd, DefinitionBytesAndUnbiasedness) {
  const Index d = 30;
  const int s = 4;
  Qsgd c(d, s, WirePrecision::kFloat64);
  EXPECT_EQ(c.level_bits(), 3);  // levels 0..4
  const Vector v = random_vector(d, 5);
  // norm + d·(1 sign + 3 level bits) = 8 + ⌈120/8⌉ = 23 bytes.
  EXPECT_EQ(encoded_size(c, v, {}), 23u);
  EXPECT_EQ(c.message_bytes(), 23u);
  const Vector q = c.apply(v, {1, 1, 1});
  const double norm = v.norm();
  for (Index j = 0; j < d; ++j) {
    const double r = s * std::abs(v[j]) / norm;
    const double level = std::abs(q[j]) * s / norm;
    EXPECT_NEAR(level, std::round(level), 1e-9);
    EXPECT_TRUE(std::round(level) == std::floor(r) || std::round(level) == std::ceil(r)) << j;
    if (q[j] != 0) {
      EXPECT_EQ(std::signbit(q[j]), std::signbit(v[j]));
    }
  }
  // Unbiased: per-coordinate variance ≤ (‖v‖/s)²/4 (one Bernoulli between neighbouring levels).
  const double z = max_z_score(c, v, 20000, [&](Index) { return 0.5 * norm / s; });
  EXPECT_LT(z, 5.0);
  Qsgd c32(d, 1, WirePrecision::kFloat32);  // 4 + ⌈30·2/8⌉ = 12
  EXPECT_EQ(encoded_size(c32, v, {}), 12u);
  const double z32 = max_z_score(c32, v, 20000, [&](Index) { return 0.5 * norm; });
  EXPECT_LT(z32, 5.0);
}

TEST(Natural, PowersOfTwoBytesAndUnbiasedness) {
  const Index d = 25;
  Natural c(d, WirePrecision::kFloat64);
  Vector v = random_vector(d, 8);
  v[3] = 0.0;
  v[4] = 0.25;  // a power of two travels exactly
  v[5] = -1e-310;  // below float64's smallest normal power: 0 or ±2^-1022
  const Vector q = c.apply(v, {2, 2, 2});
  EXPECT_EQ(q[3], 0.0);
  EXPECT_EQ(q[4], 0.25);
  for (Index j = 0; j < d; ++j) {
    if (q[j] == 0) continue;
    int e;
    const double m = std::frexp(std::abs(q[j]), &e);
    EXPECT_EQ(m, 0.5) << "a power of two";
    if (j != 5) {
      EXPECT_LE(std::abs(q[j]), 2 * std::abs(v[j]));
      EXPECT_GE(std::abs(q[j]), 0.5 * std::abs(v[j]));
    }
    EXPECT_EQ(std::signbit(q[j]), std::signbit(v[j]));
  }
  EXPECT_EQ(encoded_size(c, v, {}), static_cast<std::size_t>((d * 12 + 7) / 8));  // sign + 11 bits
  Natural c32(d, WirePrecision::kFloat32);
  EXPECT_EQ(encoded_size(c32, v, {}), static_cast<std::size_t>((d * 9 + 7) / 8));  // sign + 8 bits
  // Unbiased: Var ≤ v_j²/8 (ω = 1/8) for normal-range values.
  v[5] = 0.3;
  const double z = max_z_score(c, v, 20000, [&](Index j) { return std::abs(v[j]) / std::sqrt(8.0); });
  EXPECT_LT(z, 5.0);
}

TEST(ScaledSign, DefinitionAndBytes) {
  Vector v(10);
  v << 1, -2, 3, -4, 0, 6, -7, 8, -9, 10;
  ScaledSign c(10, WirePrecision::kFloat64);
  const double s = v.lpNorm<1>() / 10;
  Vector expect(10);
  expect << s, -s, s, -s, s, s, -s, s, -s, s;  // sign(0) = +1
  EXPECT_EQ(c.apply(v, {}), expect);
  EXPECT_EQ(encoded_size(c, v, {}), 8u + 2u);  // scale + ⌈10/8⌉
  EXPECT_LE((expect - v).squaredNorm(), (1 - 1.0 / 10) * v.squaredNorm());
}

TEST(Identity, WirePrecisionRoundsValues) {
  const Vector v = random_vector(9, 4);
  Identity c64(9, WirePrecision::kFloat64), c32(9, WirePrecision::kFloat32);
  EXPECT_EQ(c64.apply(v, {}), v);
  EXPECT_EQ(encoded_size(c64, v, {}), 72u);
  EXPECT_EQ(encoded_size(c32, v, {}), 36u);
  const Vector r = c32.apply(v, {});
  for (Index i = 0; i < 9; ++i) EXPECT_EQ(r[i], static_cast<double>(static_cast<float>(v[i])));
}

TEST(MakeCompressor, ParsesSpecsAndRejectsBadOnesNamingTheOption) {
  EXPECT_EQ(make_compressor("topk:10", 100, WirePrecision::kFloat64)->name(), "topk:10");
  EXPECT_EQ(make_compressor("topk:0.05", 100, WirePrecision::kFloat64)->name(), "topk:5");
  EXPECT_EQ(make_compressor("randk:0.001", 100, WirePrecision::kFloat64)->name(), "randk:1");
  EXPECT_EQ(make_compressor("qsgd:8", 100, WirePrecision::kFloat64)->name(), "qsgd:8");
  auto expect_error = [](const std::string& spec, const std::string& option) {
    try {
      make_compressor(spec, 100, WirePrecision::kFloat64, option);
      ADD_FAILURE() << spec << " accepted";
    } catch (const ConfigError& e) {
      EXPECT_EQ(e.key(), option) << spec;
    }
  };
  expect_error("topk:101", "compressor");  // k > d
  expect_error("topk:0", "compressor");
  expect_error("randk:1.5", "compressor");
  expect_error("qsgd:0", "compressor");  // levels < 1
  expect_error("qsgd", "compressor");
  expect_error("zip", "compressor");
  expect_error("sign:3", "compressor-down");
  EXPECT_THROW(feedback_mechanism("ef99"), ConfigError);
  EXPECT_THROW(wire_precision_from_string("wire-precision", "float16"), ConfigError);
}

TEST(CompressedUplink, AggregatesInAgentOrderIdenticallyOnEveryRank) {
  auto comm = Communicator::world();
  const Index n = 6, d = 40;
  const Placement pl(n, comm.size(), comm.rank());
  for (const char* spec : {"topk:3", "randk:0.1", "qsgd:2", "natural", "sign", "none"}) {
    CompressedUplinkOptions o;
    o.compressor = spec;
    o.seed = 17;
    o.precision = WirePrecision::kFloat32;
    CompressedUplink up(comm, Reduction::kAllreduce, pl, d, o);
    const auto mpi_before = comm.traffic().mpi_bytes();
    up.begin(d);
    for (Index a = pl.local_first(); a < pl.end(comm.rank()); ++a) {
      up.submit(a, random_vector(d, 100 + static_cast<std::uint64_t>(a)), 0.1 * static_cast<double>(a + 1));
    }
    Vector est;
    up.finish(est);
    // Every agent's message is reproducible anywhere from its key: the reference sum, in agent
    // order, computed here for all agents.
    auto ref_c = make_compressor(spec, d, WirePrecision::kFloat32);
    Vector ref = Vector::Zero(d);
    for (Index a = 0; a < n; ++a) {
      std::vector<std::uint8_t> m;
      ref_c->encode(random_vector(d, 100 + static_cast<std::uint64_t>(a)), {17, a, 1}, m);
      ref_c->decode_add(m, {17, a, 1}, 0.1 * static_cast<double>(a + 1), ref);
    }
    EXPECT_EQ(est, ref) << spec;
    for (Index a = pl.local_first(); a < pl.end(comm.rank()); ++a) {
      EXPECT_EQ(comm.traffic().agent(a).bytes_up, ref_c->message_bytes()) << spec;
    }
    if (std::string(spec) == "topk:3") {
      // Physical: this rank's records only (3·(4+4) bytes + 25 bytes of framing per agent) and
      // the counts of the allgatherv; far below d dense values per agent.
      const auto moved = comm.traffic().mpi_bytes() - mpi_before;
      EXPECT_LT(moved, static_cast<std::uint64_t>(pl.local_count()) * d * 4);
    }
    comm.traffic().restore({}, 0, 0);
  }
}
