// The HDF5 layer: round trips of dense float64/float32 matrices, CSR arrays and attributes;
// row-range and row-list reads; errors that name what is wrong; and atomic creation (a file is
// under its final name only after commit()).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "distopt/comm/communicator.hpp"
#include "distopt/core/error.hpp"
#include "distopt/io/hdf5.hpp"

using namespace distopt;
namespace fs = std::filesystem;

namespace {

/// A directory private to this rank and this process count (CTest may run np1/np2/np4 at once).
std::string scratch_dir() {
  auto comm = Communicator::world();
  const auto dir = fs::path(DISTOPT_BINARY_DIR) / "test_scratch" /
                   ("hdf5_np" + std::to_string(comm.size()) + "_r" + std::to_string(comm.rank()));
  fs::create_directories(dir);
  return dir.string();
}

RowMatrix test_matrix(Index rows, Index cols) {
  RowMatrix m(rows, cols);
  for (Index i = 0; i < rows; ++i) {
    for (Index j = 0; j < cols; ++j) m(i, j) = 0.5 * static_cast<double>(i) - 0.25 * j + 1.0 / (1 + i + j);
  }
  return m;
}

void expect_message(const std::function<void()>& f, const std::vector<std::string>& words) {
  try {
    f();
    ADD_FAILURE() << "expected a FileError";
  } catch (const FileError& e) {
    const std::string msg = e.what();
    for (const auto& w : words) EXPECT_NE(msg.find(w), std::string::npos) << "'" << w << "' not in: " << msg;
  }
}

}  // namespace

TEST(Hdf5, DenseFloat64AndFloat32RoundTrip) {
  const auto path = scratch_dir() + "/dense.h5";
  const RowMatrix m = test_matrix(1000, 7);
  {
    auto f = h5::File::create(path);
    f.write_matrix("/a/x64", m, h5::Type::kFloat64, {.chunk_rows = 64, .gzip = 0});
    f.write_matrix("/a/x32", m, h5::Type::kFloat32, {.chunk_rows = 100, .gzip = 4});
    f.commit();
  }
  auto f = h5::File::open(path);
  const auto x64 = f.array("/a/x64");
  EXPECT_EQ(x64.shape(), (std::vector<Index>{1000, 7}));
  EXPECT_EQ(x64.type(), h5::Type::kFloat64);
  EXPECT_EQ(x64.chunk_rows(), 64);
  EXPECT_EQ(f.read_matrix("/a/x64"), m);  // bitwise
  const auto x32 = f.array("a/x32");
  EXPECT_EQ(x32.type(), h5::Type::kFloat32);
  const RowMatrix back = f.read_matrix("/a/x32");
  EXPECT_EQ(back, m.cast<float>().cast<double>());  // exactly the float32 rounding
  EXPECT_GT((back - m).cwiseAbs().maxCoeff(), 0.0);
  std::vector<float> floats(7 * 3);
  x32.read_rows(10, 3, floats.data());
  for (Index j = 0; j < 7; ++j) EXPECT_EQ(floats[static_cast<std::size_t>(14 + j)], static_cast<float>(m(12, j)));
}

TEST(Hdf5, RowRangeAndRowListReads) {
  const auto path = scratch_dir() + "/rows.h5";
  const RowMatrix m = test_matrix(500, 5);
  {
    auto f = h5::File::create(path);
    f.write_matrix("chunked", m, h5::Type::kFloat64, {.chunk_rows = 32});
    auto g = f.create_group("g");
    auto a = g.create_array("rowwise", {500, 5}, h5::Type::kFloat64);
    // Written in three pieces, as the dataset writer does for large data.
    a.write_rows(0, 200, m.data());
    a.write_rows(200, 299, m.data() + 200 * 5);
    a.write_rows(499, 1, m.data() + 499 * 5);
    f.commit();
  }
  auto f = h5::File::open(path);
  for (const char* name : {"chunked", "g/rowwise"}) {
    const auto a = f.array(name);
    RowMatrix block(40, 5);
    a.read_rows(123, 40, block.data());
    EXPECT_EQ(block, m.middleRows(123, 40)) << name;
    // Scattered list (several per chunk, runs, gaps across chunks, first and last rows).
    const std::vector<Index> rows{0, 1, 2, 31, 32, 40, 41, 42, 100, 101, 300, 301, 302, 303, 498, 499};
    RowMatrix got(static_cast<Index>(rows.size()), 5);
    a.read_rows(rows, got.data());
    for (std::size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(got.row(static_cast<Index>(i)), m.row(rows[i])) << name << " row " << rows[i];
    // Sparse list over a contiguous window: read run by run.
    const std::vector<Index> few{5, 900 / 2};
    RowMatrix two(2, 5);
    a.read_rows(few, two.data());
    EXPECT_EQ(two.row(1), m.row(450));
    RowMatrix none(0, 5);
    a.read_rows(std::vector<Index>{}, none.data());
  }
  expect_message([&] {
    RowMatrix b(10, 5);
    f.array("chunked").read_rows(495, 10, b.data());
  }, {"rows [495, 505)", "/chunked"});
}

TEST(Hdf5, VectorsCsrAndAttributes) {
  const auto path = scratch_dir() + "/attrs.h5";
  const std::vector<double> data{1.5, -2, 3, 4.25};
  const std::vector<std::int64_t> indices{0, 3, 1, 2}, indptr{0, 2, 2, 4};
  const std::vector<float> fl{0.5f, 1.5f};
  {
    auto f = h5::File::create(path);
    auto x = f.create_group("/train/X");
    x.write("data", std::span<const double>(data));
    x.write("indices", std::span<const std::int64_t>(indices), {.gzip = 6});
    x.write("indptr", std::span<const std::int64_t>(indptr));
    const std::int64_t shape[2] = {3, 5};
    x.set_attr("shape", std::span<const std::int64_t>(shape, 2));
    f.write("floats", std::span<const float>(fl));
    f.set_attr("task", "binary");
    f.set_attr("n_features", std::int64_t{5});
    f.set_attr("lr", 0.125);
    const std::vector<double> v{1, 2, 3};
    f.set_attr("vec", std::span<const double>(v));
    f.set_attr("task", std::string("multiclass"));  // replaces
    f.commit();
  }
  auto f = h5::File::open(path);
  EXPECT_TRUE(f.exists("/train/X/indptr"));
  EXPECT_TRUE(f.exists("train/X"));
  EXPECT_FALSE(f.exists("/train/Y"));
  EXPECT_FALSE(f.exists("/nothing/at/all"));
  EXPECT_TRUE(f.is_group("/train/X"));
  EXPECT_FALSE(f.is_array("/train/X"));
  EXPECT_EQ(f.children(), (std::vector<std::string>{"floats", "train"}));
  const auto x = f.group("/train/X");
  EXPECT_EQ(x.children(), (std::vector<std::string>{"data", "indices", "indptr"}));
  EXPECT_EQ(x.read_doubles("data"), data);
  EXPECT_EQ(x.read_ints("indices"), indices);
  EXPECT_EQ(x.array("indices").chunk_rows(), 4);
  EXPECT_EQ(x.read_ints("indptr"), indptr);
  EXPECT_EQ(x.attr_ints("shape"), (std::vector<std::int64_t>{3, 5}));
  EXPECT_EQ(f.read_floats("floats"), fl);
  EXPECT_EQ(f.array("floats").type(), h5::Type::kFloat32);
  EXPECT_EQ(f.attr_string("task"), "multiclass");
  EXPECT_EQ(f.attr_int("n_features"), 5);
  EXPECT_EQ(f.attr_double("lr"), 0.125);
  EXPECT_EQ(f.attr_double("n_features"), 5.0);  // any number reads as double
  EXPECT_EQ(f.attr_doubles("vec"), (std::vector<double>{1, 2, 3}));
  EXPECT_EQ(f.attr_names(), (std::vector<std::string>{"lr", "n_features", "task", "vec"}));
  EXPECT_EQ(f.attr_info("vec").size, 3);
  EXPECT_EQ(f.attr_info("task").type, h5::Type::kString);
  // Partial 1-D reads (what the CSR reader does).
  std::vector<double> part(2);
  x.array("data").read_rows(1, 2, part.data());
  EXPECT_EQ(part, (std::vector<double>{-2, 3}));
  // Errors name the object.
  expect_message([&] { f.attr_string("missing_attr"); }, {path, "missing_attr", "missing"});
  expect_message([&] { f.attr_int("task"); }, {"attribute 'task'", "not an integer"});
  expect_message([&] { f.attr_string("lr"); }, {"'lr'", "not a string"});
  expect_message([&] { f.array("/train/X"); }, {"/train/X", "not a dataset"});
  expect_message([&] { f.array("/train/nope"); }, {"missing dataset /train/nope"});
  expect_message([&] { f.group("/floats"); }, {"/floats is not a group"});
}

TEST(Hdf5, UncommittedFileNeverGetsTheFinalName) {
  const auto path = scratch_dir() + "/atomic.h5";
  fs::remove(path);
  {
    auto f = h5::File::create(path);
    f.write_matrix("x", test_matrix(10, 3));
    EXPECT_TRUE(fs::exists(h5::temporary_path(path)));
    EXPECT_FALSE(fs::exists(path));
    // Destroyed without commit(), as when an exception unwinds a writer.
  }
  EXPECT_FALSE(fs::exists(path));
  EXPECT_FALSE(fs::exists(h5::temporary_path(path)));
  // An existing file is untouched by an abandoned rewrite.
  {
    auto f = h5::File::create(path);
    f.set_attr("version", std::int64_t{1});
    f.commit();
  }
  {
    auto f = h5::File::create(path);
    f.set_attr("version", std::int64_t{2});
  }
  EXPECT_EQ(h5::File::open(path).attr_int("version"), 1);
  {
    auto f = h5::File::create(path);
    auto g = f.create_group("g");  // objects still open at commit are closed with the file
    g.set_attr("version", std::int64_t{3});
    f.commit();
    EXPECT_FALSE(fs::exists(h5::temporary_path(path)));
  }
  EXPECT_EQ(h5::File::open(path).group("g").attr_int("version"), 3);
}

TEST(Hdf5, OpenErrors) {
  const auto dir = scratch_dir();
  expect_message([&] { h5::File::open(dir + "/does_not_exist.h5"); }, {"does_not_exist.h5", "no such file"});
  {
    std::ofstream(dir + "/text.h5") << "not hdf5\n";
  }
  expect_message([&] { h5::File::open(dir + "/text.h5"); }, {"text.h5", "not an HDF5 file"});
  expect_message([&] { h5::File::create(dir + "/no/such/dir/x.h5"); }, {"x.h5", "cannot create"});
}

namespace {
/// Flips one bit of the first occurrence of `pattern` in the file; false if it is not there.
bool flip_inside(const std::string& path, const std::string& pattern, std::size_t offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const auto at = bytes.find(pattern);
  if (at == std::string::npos) return false;
  f.seekp(static_cast<std::streamoff>(at + offset));
  const char c = static_cast<char>(bytes[at + offset] ^ 0x10);
  f.write(&c, 1);
  return static_cast<bool>(f);
}

std::string as_bytes(const std::vector<double>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(double));
}
}  // namespace

TEST(Hdf5, ChecksummedDataDetectsAFlippedByte) {
  // Written values with a recognisable byte pattern; one bit flipped in the file afterwards (by
  // searching the raw bytes, not through HDF5). With the default Layout (Fletcher32) every read
  // of the dataset fails naming it; without a checksum the same flip reads back a changed value,
  // which is what the checksum is for.
  std::vector<double> v(300);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = 1000.0 + 0.125 * static_cast<double>(i);
  const std::string pattern = as_bytes(std::vector<double>(v.begin() + 100, v.begin() + 104));
  for (const bool checksum : {true, false}) {
    const auto path = scratch_dir() + (checksum ? "/sum.h5" : "/nosum.h5");
    fs::remove(path);
    {
      auto f = h5::File::create(path);
      h5::Layout layout;
      layout.checksum = checksum;
      f.create_group("state").write("x", std::span<const double>(v), layout);
      f.set_attr("kind", "a fixed-length string attribute");
      f.commit();
    }
    EXPECT_EQ(h5::File::open(path).group("state").array("x").read_doubles(), v);
    ASSERT_TRUE(flip_inside(path, pattern, 3)) << "the values are stored as written";
    auto f = h5::File::open(path);
    EXPECT_EQ(f.attr_string("kind"), "a fixed-length string attribute");
    if (checksum) {
      expect_message([&] { f.group("state").array("x").read_doubles(); },
                     {"checksum mismatch", "/state/x", path});
      std::vector<double> row(1);
      expect_message([&] { f.group("state").array("x").read_rows(150, 1, row.data()); },
                     {"checksum mismatch", "/state/x"});
    } else {
      const auto back = f.group("state").array("x").read_doubles();
      EXPECT_NE(back, v);
      EXPECT_EQ(back.size(), v.size());
    }
  }
}

TEST(Hdf5, StringAttributesAreFixedLength) {
  const auto path = scratch_dir() + "/strings.h5";
  fs::remove(path);
  {
    auto f = h5::File::create(path);
    f.set_attr("empty", std::string());
    f.set_attr("text", std::string("résumé, with UTF-8"));
    f.commit();
  }
  auto f = h5::File::open(path);
  EXPECT_EQ(f.attr_string("empty"), "");
  EXPECT_EQ(f.attr_string("text"), "résumé, with UTF-8");
  // The stored type is a fixed-length string: its raw bytes are in the file, not in a heap.
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(bytes.find("résumé, with UTF-8"), std::string::npos);
}
