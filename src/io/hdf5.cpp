#include "distopt/io/hdf5.hpp"

#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <utility>

#include "distopt/core/error.hpp"
#include "distopt/core/strings.hpp"

namespace distopt::h5 {

namespace {

template <class T>
hid_t memory_type();
template <>
hid_t memory_type<double>() {
  return H5T_NATIVE_DOUBLE;
}
template <>
hid_t memory_type<float>() {
  return H5T_NATIVE_FLOAT;
}
template <>
hid_t memory_type<std::int64_t>() {
  return H5T_NATIVE_INT64;
}

hid_t file_type(Type t) {
  switch (t) {
    case Type::kFloat32: return H5T_IEEE_F32LE;
    case Type::kFloat64: return H5T_IEEE_F64LE;
    case Type::kInt32: return H5T_STD_I32LE;
    case Type::kInt64: return H5T_STD_I64LE;
    case Type::kUInt8: return H5T_STD_U8LE;
    default: throw std::invalid_argument("h5: arrays of this element type cannot be created");
  }
}

std::size_t type_bytes(Type t) {
  switch (t) {
    case Type::kFloat32:
    case Type::kInt32: return 4;
    case Type::kUInt8: return 1;
    default: return 8;
  }
}

Type classify(hid_t type) {
  const std::size_t size = H5Tget_size(type);
  switch (H5Tget_class(type)) {
    case H5T_FLOAT: return size == 4 ? Type::kFloat32 : size == 8 ? Type::kFloat64 : Type::kOther;
    case H5T_INTEGER: {
      const bool is_signed = H5Tget_sign(type) == H5T_SGN_2;
      if (size == 1 && !is_signed) return Type::kUInt8;
      if (size == 4 && is_signed) return Type::kInt32;
      if (size == 8 && is_signed) return Type::kInt64;
      return Type::kOther;
    }
    case H5T_STRING: return Type::kString;
    default: return Type::kOther;
  }
}

bool is_number(hid_t type) {
  const auto c = H5Tget_class(type);
  return c == H5T_INTEGER || c == H5T_FLOAT;
}

Handle hold(hid_t id, herr_t (*close)(hid_t)) { return id < 0 ? Handle() : Handle(id, close); }

std::vector<std::string> split_path(const std::string& path) { return split_nonempty(path, '/'); }

}  // namespace

const char* to_string(Type t) {
  switch (t) {
    case Type::kFloat32: return "float32";
    case Type::kFloat64: return "float64";
    case Type::kInt32: return "int32";
    case Type::kInt64: return "int64";
    case Type::kUInt8: return "uint8";
    case Type::kString: return "string";
    case Type::kOther: break;
  }
  return "other";
}

void silence_errors() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

namespace {
// No HDF5 clean-up at exit. A file whose flush or close failed (a full disk) stays registered
// half-closed, and HDF5's atexit handler crashes (SIGSEGV in H5F__close_cb) closing it again:
// the job would end with signal 11 instead of the error message and exit code 2. Every file this
// layer opens is closed by its RAII handle, so the clean-up has nothing left to do otherwise.
// Must run before any other HDF5 call: a static initialiser of this translation unit.
const bool g_no_atexit_cleanup = (H5dont_atexit(), true);
}  // namespace

std::string temporary_path(const std::string& path) { return path + ".tmp"; }

namespace {
/// The error of a failed write to `file`, naming a full disk as the cause when it is one: HDF5's
/// own error stack says only "write failed", so errno (ENOSPC/EDQUOT, left by the failing
/// write()) and the free space of the file's directory are consulted.
FileError write_error(const std::string& file, const std::string& what) {
  const int err = errno;
  bool full = err == ENOSPC || err == EDQUOT;
  if (!full) {
    const auto dir = std::filesystem::path(file).parent_path();
    struct statvfs st {};
    full = ::statvfs(dir.empty() ? "." : dir.c_str(), &st) == 0 && st.f_bavail == 0;
  }
  return FileError(file, what + (full ? ": no space left on device" : ""));
}
}  // namespace

Handle::Handle(hid_t id, herr_t (*close)(hid_t))
    : p_(new hid_t(id), [close](hid_t* p) {
        // A file closed with H5F_CLOSE_STRONG has already closed its objects.
        if (H5Iis_valid(*p) > 0) close(*p);
        delete p;
      }) {}

// ---------------------------------------------------------------- attributes

std::string Node::where(const std::string& attr) const {
  return "attribute '" + attr + "' of " + name_;
}

bool Node::has_attr(const std::string& attr) const {
  const htri_t r = H5Aexists(id(), attr.c_str());
  if (r < 0) throw FileError(file_, "cannot query " + where(attr));
  return r > 0;
}

std::vector<std::string> Node::attr_names() const {
  std::vector<std::string> names;
  hsize_t idx = 0;
  auto cb = [](hid_t, const char* n, const H5A_info_t*, void* data) -> herr_t {
    static_cast<std::vector<std::string>*>(data)->emplace_back(n);
    return 0;
  };
  if (H5Aiterate2(id(), H5_INDEX_NAME, H5_ITER_INC, &idx, cb, &names) < 0) {
    throw FileError(file_, "cannot list the attributes of " + name_);
  }
  return names;
}

namespace {

/// An open attribute with its type and space, or a FileError naming it.
struct OpenAttr {
  Handle attr, type, space;
  Index npoints = 0;
};

OpenAttr open_attr(hid_t obj, const std::string& file, const std::string& attr,
                   const std::string& where) {
  const htri_t e = H5Aexists(obj, attr.c_str());
  if (e <= 0) throw FileError(file, "missing " + where);
  OpenAttr a;
  a.attr = hold(H5Aopen(obj, attr.c_str(), H5P_DEFAULT), H5Aclose);
  if (!a.attr) throw FileError(file, "cannot open " + where);
  a.type = hold(H5Aget_type(a.attr.get()), H5Tclose);
  a.space = hold(H5Aget_space(a.attr.get()), H5Sclose);
  if (!a.type || !a.space) throw FileError(file, "cannot read " + where);
  a.npoints = static_cast<Index>(H5Sget_simple_extent_npoints(a.space.get()));
  return a;
}

}  // namespace

AttrInfo Node::attr_info(const std::string& attr) const {
  auto a = open_attr(id(), file_, attr, where(attr));
  return {classify(a.type.get()), a.npoints};
}

void Node::set_attr(const std::string& attr, const std::string& value) {
  if (has_attr(attr) && H5Adelete(id(), attr.c_str()) < 0) {
    throw FileError(file_, "cannot replace " + where(attr));
  }
  // Fixed-length (NUL-padded, at least one byte): a variable-length string lives in a global
  // heap that a corrupt file can point anywhere, and libhdf5 crashes following it.
  Handle type = hold(H5Tcopy(H5T_C_S1), H5Tclose);
  Handle space = hold(H5Screate(H5S_SCALAR), H5Sclose);
  const std::size_t size = std::max<std::size_t>(1, value.size());
  if (!type || H5Tset_size(type.get(), size) < 0 ||
      H5Tset_strpad(type.get(), H5T_STR_NULLPAD) < 0 ||
      H5Tset_cset(type.get(), H5T_CSET_UTF8) < 0 || !space) {
    throw write_error(file_, "cannot write " + where(attr));
  }
  Handle a = hold(H5Acreate2(id(), attr.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
                  H5Aclose);
  std::string padded = value;
  padded.resize(size, '\0');
  if (!a || H5Awrite(a.get(), type.get(), padded.data()) < 0) {
    throw write_error(file_, "cannot write " + where(attr));
  }
}

namespace {

void write_numeric_attr(hid_t obj, const std::string& file, const std::string& attr,
                        const std::string& where, hid_t ftype, hid_t mtype, const void* data,
                        std::size_t n, bool scalar) {
  const htri_t e = H5Aexists(obj, attr.c_str());
  if (e < 0 || (e > 0 && H5Adelete(obj, attr.c_str()) < 0)) {
    throw FileError(file, "cannot replace " + where);
  }
  const hsize_t dims[1] = {static_cast<hsize_t>(n)};
  Handle space = hold(scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, dims, nullptr), H5Sclose);
  if (!space) throw write_error(file, "cannot write " + where);
  Handle a = hold(H5Acreate2(obj, attr.c_str(), ftype, space.get(), H5P_DEFAULT, H5P_DEFAULT),
                  H5Aclose);
  if (!a || H5Awrite(a.get(), mtype, data) < 0) throw write_error(file, "cannot write " + where);
}

}  // namespace

void Node::set_attr(const std::string& attr, std::int64_t value) {
  write_numeric_attr(id(), file_, attr, where(attr), H5T_STD_I64LE, H5T_NATIVE_INT64, &value, 1,
                     true);
}

void Node::set_attr(const std::string& attr, double value) {
  write_numeric_attr(id(), file_, attr, where(attr), H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value, 1,
                     true);
}

void Node::set_attr(const std::string& attr, std::span<const double> values) {
  write_numeric_attr(id(), file_, attr, where(attr), H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
                     values.data(), values.size(), false);
}

void Node::set_attr(const std::string& attr, std::span<const std::int64_t> values) {
  write_numeric_attr(id(), file_, attr, where(attr), H5T_STD_I64LE, H5T_NATIVE_INT64,
                     values.data(), values.size(), false);
}

std::string Node::attr_string(const std::string& attr) const {
  auto a = open_attr(id(), file_, attr, where(attr));
  if (H5Tget_class(a.type.get()) != H5T_STRING) throw FileError(file_, where(attr) + " is not a string");
  if (a.npoints != 1) throw FileError(file_, where(attr) + " is not a single string");
  const htri_t variable = H5Tis_variable_str(a.type.get());
  if (variable < 0) throw FileError(file_, "cannot read " + where(attr));
  if (variable > 0) {
    Handle mtype = hold(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mtype.get(), H5T_VARIABLE);
    H5Tset_cset(mtype.get(), H5Tget_cset(a.type.get()));
    char* p = nullptr;
    if (H5Aread(a.attr.get(), mtype.get(), &p) < 0) throw FileError(file_, "cannot read " + where(attr));
    std::string s = p ? p : "";
    H5free_memory(p);
    return s;
  }
  const std::size_t size = H5Tget_size(a.type.get());
  std::string buf(size, '\0');
  if (H5Aread(a.attr.get(), a.type.get(), buf.data()) < 0) {
    throw FileError(file_, "cannot read " + where(attr));
  }
  // Fixed-length strings are NUL- or space-padded.
  buf.resize(std::min(buf.find('\0'), buf.size()));
  while (!buf.empty() && buf.back() == ' ') buf.pop_back();
  return buf;
}

std::vector<double> Node::attr_doubles(const std::string& attr) const {
  auto a = open_attr(id(), file_, attr, where(attr));
  if (!is_number(a.type.get())) throw FileError(file_, where(attr) + " is not a number");
  std::vector<double> v(static_cast<std::size_t>(a.npoints));
  if (!v.empty() && H5Aread(a.attr.get(), H5T_NATIVE_DOUBLE, v.data()) < 0) {
    throw FileError(file_, "cannot read " + where(attr));
  }
  return v;
}

std::vector<std::int64_t> Node::attr_ints(const std::string& attr) const {
  auto a = open_attr(id(), file_, attr, where(attr));
  if (H5Tget_class(a.type.get()) == H5T_FLOAT) {
    // h5py users sometimes store counts as floats: accept them when they are integral.
    std::vector<std::int64_t> out;
    for (double d : attr_doubles(attr)) {
      if (d != std::floor(d) || std::fabs(d) > 9e18) {
        throw FileError(file_, where(attr) + " is not an integer");
      }
      out.push_back(static_cast<std::int64_t>(d));
    }
    return out;
  }
  if (H5Tget_class(a.type.get()) != H5T_INTEGER) {
    throw FileError(file_, where(attr) + " is not an integer");
  }
  std::vector<std::int64_t> v(static_cast<std::size_t>(a.npoints));
  if (!v.empty() && H5Aread(a.attr.get(), H5T_NATIVE_INT64, v.data()) < 0) {
    throw FileError(file_, "cannot read " + where(attr));
  }
  return v;
}

std::int64_t Node::attr_int(const std::string& attr) const {
  auto v = attr_ints(attr);
  if (v.size() != 1) throw FileError(file_, where(attr) + " is not a single integer");
  return v[0];
}

double Node::attr_double(const std::string& attr) const {
  auto v = attr_doubles(attr);
  if (v.size() != 1) throw FileError(file_, where(attr) + " is not a single number");
  return v[0];
}

// ---------------------------------------------------------------- arrays

Array::Array(Handle h, std::string file, std::string name)
    : Node(std::move(h), std::move(file), std::move(name)) {
  Handle space = hold(H5Dget_space(id()), H5Sclose);
  Handle type = hold(H5Dget_type(id()), H5Tclose);
  Handle dcpl = hold(H5Dget_create_plist(id()), H5Pclose);
  if (!space || !type || !dcpl) throw FileError(file_, "cannot inspect dataset " + name_);
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0) throw FileError(file_, "cannot inspect dataset " + name_);
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  for (auto d : dims) shape_.push_back(static_cast<Index>(d));
  type_ = classify(type.get());
  if (rank > 0 && H5Pget_layout(dcpl.get()) == H5D_CHUNKED) {
    std::vector<hsize_t> chunk(static_cast<std::size_t>(rank));
    if (H5Pget_chunk(dcpl.get(), rank, chunk.data()) == rank) {
      chunk_rows_ = static_cast<Index>(chunk[0]);
    }
  }
}

Index Array::cols() const {
  Index c = 1;
  for (std::size_t i = 1; i < shape_.size(); ++i) c *= shape_[i];
  return c;
}

Index Array::size() const { return rows() * cols(); }

namespace {

/// True if the current HDF5 error stack (errors are silenced, not cleared) names a checksum
/// failure: Fletcher32 reports "data error detected by fletcher32 checksum".
bool checksum_failed() {
  bool found = false;
  auto cb = [](unsigned, const H5E_error2_t* e, void* data) -> herr_t {
    if (e->desc && (std::strstr(e->desc, "checksum") || std::strstr(e->desc, "fletcher32"))) {
      *static_cast<bool*>(data) = true;
    }
    return 0;
  };
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, cb, &found);
  return found;
}

/// The FileError of a failed H5Dread of `what` (a checksum mismatch named as such).
FileError read_error(const Array& a, const std::string& what) {
  if (checksum_failed()) {
    return FileError(a.file(), "checksum mismatch in dataset " + a.name() +
                                   ": the file is corrupt (stored data changed after writing)");
  }
  return FileError(a.file(), "cannot read " + what);
}

template <class T>
std::vector<T> read_all(const Array& a) {
  std::vector<T> v(static_cast<std::size_t>(a.size()));
  if (!v.empty() &&
      H5Dread(a.id(), memory_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) < 0) {
    throw read_error(
        a, "dataset " + a.name() + " (as " + (sizeof(T) == 4 ? "float32" : "64-bit numbers") + ")");
  }
  return v;
}

}  // namespace

std::vector<double> Array::read_doubles() const { return read_all<double>(*this); }
std::vector<float> Array::read_floats() const { return read_all<float>(*this); }
std::vector<std::int64_t> Array::read_ints() const { return read_all<std::int64_t>(*this); }

std::pair<Handle, Handle> Array::row_selection(Index first, Index count) const {
  // File space: rows [first, first+count) of every column; memory space: a flat buffer.
  Handle fspace = hold(H5Dget_space(id()), H5Sclose);
  std::vector<hsize_t> start(shape_.size(), 0), cnt(shape_.begin(), shape_.end());
  start[0] = static_cast<hsize_t>(first);
  cnt[0] = static_cast<hsize_t>(count);
  const hsize_t n = static_cast<hsize_t>(count * cols());
  Handle mspace = hold(H5Screate_simple(1, &n, nullptr), H5Sclose);
  if (fspace && H5Sselect_hyperslab(fspace.get(), H5S_SELECT_SET, start.data(), nullptr,
                                    cnt.data(), nullptr) < 0) {
    fspace.reset();
  }
  return {fspace, mspace};
}

template <class T>
void Array::read_block(Index first, Index count, T* out) const {
  if (count == 0) return;
  if (first < 0 || count < 0 || first + count > rows()) {
    throw FileError(file_, "rows [" + std::to_string(first) + ", " + std::to_string(first + count) +
                               ") are outside dataset " + name_ + " of " +
                               std::to_string(rows()) + " rows");
  }
  if (shape_.empty()) {  // scalar dataset
    if (H5Dread(id(), memory_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0) {
      throw read_error(*this, "dataset " + name_);
    }
    return;
  }
  const auto [fspace, mspace] = row_selection(first, count);
  if (!fspace || !mspace ||
      H5Dread(id(), memory_type<T>(), mspace.get(), fspace.get(), H5P_DEFAULT, out) < 0) {
    throw read_error(*this, "rows [" + std::to_string(first) + ", " +
                                std::to_string(first + count) + ") of dataset " + name_);
  }
}

template <class T>
void Array::read_list(std::span<const Index> rows, T* out) const {
  const Index n = static_cast<Index>(rows.size());
  const Index c = cols();
  for (Index i = 0; i < n; ++i) {
    if (rows[i] < 0 || rows[i] >= this->rows() || (i > 0 && rows[i] <= rows[i - 1])) {
      throw std::invalid_argument("h5::Array::read_rows: row list of " + name_ +
                                  " is not strictly increasing within the array");
    }
  }
  // Windows aligned to chunks: HDF5 reads (and inflates) whole chunks anyway, so reading the
  // span of wanted rows inside one chunk costs nothing extra and saves one call per row.
  const Index window = chunk_rows_ > 0 ? chunk_rows_ : 1024;
  std::vector<T> scratch;
  Index i = 0;
  while (i < n) {
    const Index lo = rows[i];
    const Index window_end = (lo / window + 1) * window;
    Index j = i;
    while (j < n && rows[j] < window_end) ++j;
    const Index span = rows[j - 1] - lo + 1;
    if (span == j - i) {
      read_block(lo, span, out + i * c);
    } else if (chunk_rows_ > 0 || (j - i) * 4 >= span) {
      scratch.resize(static_cast<std::size_t>(span * c));
      read_block(lo, span, scratch.data());
      for (Index k = i; k < j; ++k) {
        std::copy_n(scratch.data() + (rows[k] - lo) * c, c, out + k * c);
      }
    } else {
      // Sparse wanted rows of a contiguous array: read each run on its own.
      Index k = i;
      while (k < j) {
        Index e = k + 1;
        while (e < j && rows[e] == rows[e - 1] + 1) ++e;
        read_block(rows[k], e - k, out + k * c);
        k = e;
      }
    }
    i = j;
  }
}

template <class T>
void Array::write_block(Index first, Index count, const T* data) {
  if (count == 0) return;
  if (first < 0 || count < 0 || first + count > rows() || shape_.empty()) {
    throw FileError(file_, "rows [" + std::to_string(first) + ", " + std::to_string(first + count) +
                               ") are outside dataset " + name_);
  }
  const auto [fspace, mspace] = row_selection(first, count);
  if (!fspace || !mspace ||
      H5Dwrite(id(), memory_type<T>(), mspace.get(), fspace.get(), H5P_DEFAULT, data) < 0) {
    throw write_error(file_, "cannot write rows [" + std::to_string(first) + ", " +
                                 std::to_string(first + count) + ") of dataset " + name_);
  }
}

void Array::read_rows(Index first, Index count, double* out) const { read_block(first, count, out); }
void Array::read_rows(Index first, Index count, float* out) const { read_block(first, count, out); }
void Array::read_rows(Index first, Index count, std::int64_t* out) const {
  read_block(first, count, out);
}
void Array::read_rows(std::span<const Index> rows, double* out) const { read_list(rows, out); }
void Array::read_rows(std::span<const Index> rows, float* out) const { read_list(rows, out); }
void Array::read_rows(std::span<const Index> rows, std::int64_t* out) const {
  read_list(rows, out);
}
void Array::write_rows(Index first, Index count, const double* data) {
  write_block(first, count, data);
}
void Array::write_rows(Index first, Index count, const float* data) {
  write_block(first, count, data);
}
void Array::write_rows(Index first, Index count, const std::int64_t* data) {
  write_block(first, count, data);
}

// ---------------------------------------------------------------- groups

std::string Group::child_path(const std::string& path) const {
  if (!path.empty() && path.front() == '/') return path;
  return name_ == "/" ? "/" + path : name_ + "/" + path;
}

bool Group::exists(const std::string& path) const {
  const auto full = child_path(path);
  std::string prefix;
  for (const auto& part : split_path(full)) {
    prefix += "/" + part;
    const htri_t r = H5Lexists(id(), prefix.c_str(), H5P_DEFAULT);
    if (r <= 0) return false;
  }
  return H5Oexists_by_name(id(), full.c_str(), H5P_DEFAULT) > 0;
}

namespace {

H5I_type_t object_type(hid_t loc, const std::string& path) {
  const hid_t o = H5Oopen(loc, path.c_str(), H5P_DEFAULT);
  if (o < 0) return H5I_BADID;
  const H5I_type_t t = H5Iget_type(o);
  H5Oclose(o);
  return t;
}

}  // namespace

bool Group::is_group(const std::string& path) const {
  return exists(path) && object_type(id(), child_path(path)) == H5I_GROUP;
}

bool Group::is_array(const std::string& path) const {
  return exists(path) && object_type(id(), child_path(path)) == H5I_DATASET;
}

std::vector<std::string> Group::children() const {
  H5G_info_t info;
  if (H5Gget_info(id(), &info) < 0) throw FileError(file_, "cannot list group " + name_);
  std::vector<std::string> names;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t len =
        H5Lget_name_by_idx(id(), ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    if (len < 0) throw FileError(file_, "cannot list group " + name_);
    std::string n(static_cast<std::size_t>(len) + 1, '\0');
    H5Lget_name_by_idx(id(), ".", H5_INDEX_NAME, H5_ITER_INC, i, n.data(), n.size(), H5P_DEFAULT);
    n.resize(static_cast<std::size_t>(len));
    names.push_back(std::move(n));
  }
  return names;
}

Group Group::group(const std::string& path) const {
  const auto full = child_path(path);
  if (!is_group(path)) {
    throw FileError(file_, exists(path) ? full + " is not a group" : "missing group " + full);
  }
  Handle h = hold(H5Gopen2(id(), full.c_str(), H5P_DEFAULT), H5Gclose);
  if (!h) throw FileError(file_, "cannot open group " + full);
  return Group(std::move(h), file_, full);
}

Group Group::create_group(const std::string& path) {
  const auto full = child_path(path);
  if (exists(path)) return group(path);
  Handle lcpl = hold(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  H5Pset_create_intermediate_group(lcpl.get(), 1);
  Handle h = hold(H5Gcreate2(id(), full.c_str(), lcpl.get(), H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
  if (!h) throw write_error(file_, "cannot create group " + full);
  return Group(std::move(h), file_, full);
}

Array Group::array(const std::string& path) const {
  const auto full = child_path(path);
  if (!is_array(path)) {
    throw FileError(file_, exists(path) ? full + " is not a dataset" : "missing dataset " + full);
  }
  // A chunk cache large enough for the chunks read_rows walks through, one window at a time.
  Handle dapl = hold(H5Pcreate(H5P_DATASET_ACCESS), H5Pclose);
  H5Pset_chunk_cache(dapl.get(), 521, 8u << 20, 0.75);
  Handle h = hold(H5Dopen2(id(), full.c_str(), dapl.get()), H5Dclose);
  if (!h) throw FileError(file_, "cannot open dataset " + full);
  return Array(std::move(h), file_, full);
}

Array Group::create_array(const std::string& name, const std::vector<Index>& shape, Type type,
                          const Layout& layout) {
  const auto full = child_path(name);
  if (shape.empty() || shape.size() > 2) {
    throw std::invalid_argument("h5::create_array: " + full + " must be 1-D or 2-D");
  }
  if (exists(name)) throw FileError(file_, "dataset " + full + " already exists");
  std::vector<hsize_t> dims(shape.begin(), shape.end());
  Handle space = hold(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                      H5Sclose);
  Handle dcpl = hold(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  Handle lcpl = hold(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  if (!space || !dcpl || !lcpl) throw write_error(file_, "cannot create dataset " + full);
  H5Pset_create_intermediate_group(lcpl.get(), 1);
  const Index rows = shape[0];
  const Index cols = shape.size() == 2 ? shape[1] : 1;
  // Chunk only what can be chunked (no zero dimensions); 2-D arrays always, so rows can be
  // read without reading the rest; 1-D arrays when compressed or checksummed (filters need
  // chunks).
  const bool chunked =
      rows > 0 && cols > 0 && (shape.size() == 2 || layout.gzip > 0 || layout.checksum);
  if (chunked) {
    Index chunk = layout.chunk_rows;
    if (chunk <= 0) {
      const Index row_bytes = cols * static_cast<Index>(type_bytes(type));
      chunk = std::max<Index>(1, (Index{1} << 20) / row_bytes);
    }
    std::vector<hsize_t> cdims = dims;
    cdims[0] = static_cast<hsize_t>(std::min(chunk, rows));
    if (H5Pset_chunk(dcpl.get(), static_cast<int>(cdims.size()), cdims.data()) < 0 ||
        (layout.gzip > 0 && H5Pset_deflate(dcpl.get(), static_cast<unsigned>(layout.gzip)) < 0) ||
        (layout.checksum && H5Pset_fletcher32(dcpl.get()) < 0)) {
      throw FileError(file_, "cannot set the layout of dataset " + full);
    }
  }
  Handle h = hold(H5Dcreate2(id(), full.c_str(), file_type(type), space.get(), lcpl.get(),
                             dcpl.get(), H5P_DEFAULT),
                  H5Dclose);
  if (!h) throw write_error(file_, "cannot create dataset " + full);
  return Array(std::move(h), file_, full);
}

void Group::write(const std::string& name, std::span<const double> v, const Layout& layout) {
  auto a = create_array(name, {static_cast<Index>(v.size())}, Type::kFloat64, layout);
  a.write_rows(0, static_cast<Index>(v.size()), v.data());
}

void Group::write(const std::string& name, std::span<const float> v, const Layout& layout) {
  auto a = create_array(name, {static_cast<Index>(v.size())}, Type::kFloat32, layout);
  a.write_rows(0, static_cast<Index>(v.size()), v.data());
}

void Group::write(const std::string& name, std::span<const std::int64_t> v, const Layout& layout) {
  auto a = create_array(name, {static_cast<Index>(v.size())}, Type::kInt64, layout);
  a.write_rows(0, static_cast<Index>(v.size()), v.data());
}

void Group::write_matrix(const std::string& name, const RowMatrix& m, Type type,
                         const Layout& layout) {
  if (type != Type::kFloat64 && type != Type::kFloat32) {
    throw std::invalid_argument("h5::write_matrix: storage must be float64 or float32");
  }
  auto a = create_array(name, {m.rows(), m.cols()}, type, layout);
  // HDF5 converts double to float32 on the way to the file.
  a.write_rows(0, m.rows(), m.data());
}

RowMatrix Group::read_matrix(const std::string& name) const {
  auto a = array(name);
  if (a.rank() != 2) {
    throw FileError(file_, "dataset " + a.name() + " is not a matrix (it has " +
                               std::to_string(a.rank()) + " dimensions)");
  }
  RowMatrix m(a.rows(), a.cols());
  a.read_rows(0, a.rows(), m.data());
  return m;
}

// ---------------------------------------------------------------- files

File File::create(const std::string& path) {
  silence_errors();
  const auto tmp = h5::temporary_path(path);
  Handle fapl = hold(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  // Strong close: closing the file closes every object still open in it, so commit() can
  // rename a file that is really closed.
  H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_STRONG);
  Handle h = hold(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()), H5Fclose);
  if (!h)
    throw write_error(path, "cannot create " + tmp + " (missing directory or no permission?)");
  return File(std::move(h), path, tmp);
}

File File::open(const std::string& path) {
  silence_errors();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw FileError(path, "no such file");
  if (std::filesystem::is_directory(path, ec)) throw FileError(path, "is a directory, not a file");
  if (H5Fis_hdf5(path.c_str()) <= 0) throw FileError(path, "not an HDF5 file");
  Handle h = hold(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!h) throw FileError(path, "cannot open HDF5 file (unreadable or locked by a writer?)");
  return File(std::move(h), path, std::string());
}

File::File(File&& o) noexcept : Group(std::move(o)), tmp_(std::exchange(o.tmp_, {})) {
  o.h_.reset();
}

File& File::operator=(File&& o) noexcept {
  if (this != &o) {
    close();
    Group::operator=(std::move(o));
    tmp_ = std::exchange(o.tmp_, {});
    o.h_.reset();
  }
  return *this;
}

File::~File() { close(); }

void File::close() {
  if (h_) h_.reset();
  if (!tmp_.empty()) {
    std::error_code ec;
    std::filesystem::remove(tmp_, ec);
    tmp_.clear();
  }
}

void File::commit() {
  if (tmp_.empty() || !h_) throw std::logic_error("h5::File::commit on a file not being created");
  const hid_t id = h_.get();
  if (H5Fflush(id, H5F_SCOPE_GLOBAL) < 0 || H5Fclose(id) < 0) {
    throw write_error(file_, "cannot finish writing " + tmp_);
  }
  h_.reset();
  std::error_code ec;
  std::filesystem::rename(tmp_, file_, ec);
  if (ec) throw FileError(file_, "cannot rename " + tmp_ + " to its final name: " + ec.message());
  tmp_.clear();
}

}  // namespace distopt::h5
