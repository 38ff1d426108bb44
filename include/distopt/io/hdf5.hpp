#pragma once
// A thin RAII layer over the HDF5 C API, shared by datasets, result files and checkpoints.
//
//  * File::create(path) writes to "path.tmp"; commit() closes it and renames it to `path`, so a
//    file under its final name is always complete. A created file destroyed without commit()
//    (an exception unwinding, a failed run) removes its temporary file.
//  * Every HDF5 failure becomes a FileError(file, "...") naming the group, dataset or attribute;
//    HDF5's own error-stack printing is switched off.
//  * Arrays are 1-D or 2-D (row-major); 2-D arrays are chunked by rows so that a block or a list
//    of rows can be read without touching the rest (each rank reads only its own rows).
//  * Reads convert to the requested memory type (a float32 array reads into doubles).
#include <hdf5.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "distopt/core/types.hpp"

/// @namespace distopt::h5
/// @brief RAII wrappers over the HDF5 C API: files, groups, arrays and attributes, with every
/// failure reported as a FileError.
namespace distopt::h5 {

/// Element type of an array or attribute, as stored in the file.
enum class Type { kFloat32, kFloat64, kInt32, kInt64, kUInt8, kString, kOther };
/// The type's name as used in messages: "float32", "float64", "int32", "int64", "uint8",
/// "string" or "other".
const char* to_string(Type t);

/// Storage options of a new array.
struct Layout {
  Index chunk_rows = 0;  ///< rows per chunk of a 2-D array (0: about 1 MiB per chunk)
  int gzip = 0;          ///< deflate level 0 (none) to 9; a compressed 1-D array is chunked too
  /// HDF5's Fletcher32 checksum on every chunk, verified by libhdf5 on every read (a mismatch is
  /// a FileError naming the dataset); a checksummed non-empty array is always chunked. Default on.
  bool checksum = true;
};

/// Type and element count of an attribute (a string counts as one element).
struct AttrInfo {
  Type type = Type::kOther;  ///< stored element type
  Index size = 0;            ///< number of elements (1 for a string)
};

/// Owner of an hid_t: closes it (if still valid) when the last copy goes away.
class Handle {
 public:
  /// An empty handle (get() is H5I_INVALID_HID).
  Handle() = default;
  /// Takes ownership of the valid id `id`; `close` (H5Fclose, H5Dclose, ...) is called on it when
  /// the last copy is destroyed, unless HDF5 has already invalidated it (a strongly closed file).
  Handle(hid_t id, herr_t (*close)(hid_t));
  /// The id, or H5I_INVALID_HID for an empty handle.
  hid_t get() const { return p_ ? *p_ : H5I_INVALID_HID; }
  /// Whether the handle holds an id.
  explicit operator bool() const { return p_ != nullptr; }
  /// Drops this copy's share (the id is closed if it was the last one).
  void reset() { p_.reset(); }

 private:
  std::shared_ptr<hid_t> p_;
};

/// What groups, arrays and files share: a location in a file, and attributes.
class Node {
 public:
  /// Path of the file on disk (the final name, also while a created file is still ".tmp").
  const std::string& file() const { return file_; }
  /// Path inside the file, e.g. "/train/X".
  const std::string& name() const { return name_; }
  /// The raw HDF5 id (for direct HDF5 calls; still owned by the node).
  hid_t id() const { return h_.get(); }

  /// Whether the object has an attribute named `attr`; FileError if HDF5 cannot tell.
  bool has_attr(const std::string& attr) const;
  /// Names of every attribute of the object, in alphabetical order.
  std::vector<std::string> attr_names() const;
  /// Type and element count of attribute `attr`; FileError if it is missing.
  AttrInfo attr_info(const std::string& attr) const;
  /// Writes a string attribute. Attributes are replaced if they exist. Strings are
  /// variable-length UTF-8 (h5py reads them as str). FileError if the write fails.
  void set_attr(const std::string& attr, const std::string& value);
  /// Writes a string attribute (as the std::string overload).
  void set_attr(const std::string& attr, const char* value) { set_attr(attr, std::string(value)); }
  /// Writes a scalar int64 attribute, replacing any existing one.
  void set_attr(const std::string& attr, std::int64_t value);
  /// Writes a scalar float64 attribute, replacing any existing one.
  void set_attr(const std::string& attr, double value);
  /// Writes a 1-D float64 attribute, replacing any existing one.
  void set_attr(const std::string& attr, std::span<const double> values);
  /// Writes a 1-D int64 attribute, replacing any existing one.
  void set_attr(const std::string& attr, std::span<const std::int64_t> values);
  /// Reads a single-string attribute. Like every typed read below, a missing attribute or one of
  /// another kind is a FileError naming it.
  std::string attr_string(const std::string& attr) const;
  /// Reads a single integer; any integer type is accepted, and floats with integral values.
  std::int64_t attr_int(const std::string& attr) const;
  /// Reads a single number of any numeric type, converted to double.
  double attr_double(const std::string& attr) const;
  /// Reads every element of a numeric attribute, converted to double.
  std::vector<double> attr_doubles(const std::string& attr) const;
  /// Reads every element of an integer attribute (or of a float one with integral values).
  std::vector<std::int64_t> attr_ints(const std::string& attr) const;

 protected:
  /// An empty node (no file open).
  Node() = default;
  /// A node over the open object `h`, at path `name` inside file `file`.
  Node(Handle h, std::string file, std::string name)
      : h_(std::move(h)), file_(std::move(file)), name_(std::move(name)) {}
  /// "attribute 'x' of /train/X".
  std::string where(const std::string& attr) const;
  Handle h_;          ///< the open HDF5 object
  std::string file_;  ///< path of the file on disk (its final name)
  std::string name_;  ///< absolute path of the object inside the file
};

/// An HDF5 dataset (called an array here, to keep "dataset" for distopt::Dataset): 1-D or 2-D.
class Array : public Node {
 public:
  /// An empty array (not attached to a file).
  Array() = default;
  /// Dimensions, outermost first ({n} or {rows, cols}; empty for a scalar dataset).
  const std::vector<Index>& shape() const { return shape_; }
  /// Number of dimensions (not to be confused with an MPI rank).
  Index rank() const { return static_cast<Index>(shape_.size()); }
  /// Extent of the first dimension (1 for a scalar dataset).
  Index rows() const { return shape_.empty() ? 1 : shape_[0]; }
  /// Elements per row: product of the dimensions after the first (1 for a 1-D array).
  Index cols() const;
  /// Total number of elements, rows() * cols().
  Index size() const;
  /// Element type stored in the file.
  Type type() const { return type_; }
  /// Rows per chunk (0 for a contiguous array).
  Index chunk_rows() const { return chunk_rows_; }

  /// The whole array, converted to double (size() elements, row-major); FileError on failure.
  std::vector<double> read_doubles() const;
  /// The whole array, converted to float.
  std::vector<float> read_floats() const;
  /// The whole array, converted to int64.
  std::vector<std::int64_t> read_ints() const;

  /// Rows [first, first+count) into out (count*cols() elements, row-major), converted to double.
  /// FileError if the rows are outside the array or the read fails.
  void read_rows(Index first, Index count, double* out) const;
  /// Rows [first, first+count), converted to float (as the double overload).
  void read_rows(Index first, Index count, float* out) const;
  /// Rows [first, first+count), converted to int64 (as the double overload).
  void read_rows(Index first, Index count, std::int64_t* out) const;
  /// The listed rows (strictly increasing, within the array; std::invalid_argument otherwise)
  /// into out, in list order. Reads whole chunk-sized windows and copies the wanted rows out, so
  /// a scattered list costs one read per window.
  void read_rows(std::span<const Index> rows, double* out) const;
  /// The listed rows, converted to float (as the double overload).
  void read_rows(std::span<const Index> rows, float* out) const;
  /// The listed rows, converted to int64 (as the double overload).
  void read_rows(std::span<const Index> rows, std::int64_t* out) const;

  /// Writes rows [first, first+count) from `data` (count*cols() doubles, converted to the
  /// stored type). FileError if the rows are outside the array or the write fails.
  void write_rows(Index first, Index count, const double* data);
  /// Writes rows [first, first+count) from floats (as the double overload).
  void write_rows(Index first, Index count, const float* data);
  /// Writes rows [first, first+count) from int64 values (as the double overload).
  void write_rows(Index first, Index count, const std::int64_t* data);

 private:
  friend class Group;
  Array(Handle h, std::string file, std::string name);
  /// File and memory dataspaces selecting rows [first, first+count); a null handle on failure.
  std::pair<Handle, Handle> row_selection(Index first, Index count) const;
  template <class T>
  void read_block(Index first, Index count, T* out) const;
  template <class T>
  void read_list(std::span<const Index> rows, T* out) const;
  template <class T>
  void write_block(Index first, Index count, const T* data);
  std::vector<Index> shape_;
  Type type_ = Type::kOther;
  Index chunk_rows_ = 0;
};

/// A group (the root group of a file included).
class Group : public Node {
 public:
  /// An empty group (not attached to a file).
  Group() = default;

  /// True if the relative or absolute path names an object (every component is checked, so
  /// "a/b" on a file without "a" is false rather than an error).
  bool exists(const std::string& path) const;
  /// True if `path` exists and is a group.
  bool is_group(const std::string& path) const;
  /// True if `path` exists and is an array (HDF5 dataset).
  bool is_array(const std::string& path) const;
  /// Names of the direct children, in alphabetical order (HDF5's name index).
  std::vector<std::string> children() const;

  /// The group at `path` (relative to this group, or absolute); FileError if it is missing or
  /// not a group.
  Group group(const std::string& path) const;
  /// Creates the group (and missing parents); returns the existing one if it is there.
  Group create_group(const std::string& path);
  /// The array at `path` (relative or absolute); FileError if it is missing or not an array.
  Array array(const std::string& path) const;
  /// A new 1-D (shape {n}) or 2-D (shape {rows, cols}) array of the given element type, with
  /// missing parent groups created. FileError if `name` exists; std::invalid_argument for
  /// another number of dimensions.
  Array create_array(const std::string& name, const std::vector<Index>& shape, Type type,
                     const Layout& layout = {});

  // Convenience: whole 1-D arrays and row-major matrices.
  /// Creates the 1-D float64 array `name` holding `v` (FileError if it exists).
  void write(const std::string& name, std::span<const double> v, const Layout& layout = {});
  /// Creates the 1-D float32 array `name` holding `v`.
  void write(const std::string& name, std::span<const float> v, const Layout& layout = {});
  /// Creates the 1-D int64 array `name` holding `v`.
  void write(const std::string& name, std::span<const std::int64_t> v, const Layout& layout = {});
  /// A row-major matrix stored as `type` (kFloat64 or kFloat32), chunked by rows.
  void write_matrix(const std::string& name, const RowMatrix& m, Type type = Type::kFloat64,
                    const Layout& layout = {});
  /// The whole array `name`, converted to double (Array::read_doubles).
  std::vector<double> read_doubles(const std::string& name) const {
    return array(name).read_doubles();
  }
  /// The whole array `name`, converted to float.
  std::vector<float> read_floats(const std::string& name) const {
    return array(name).read_floats();
  }
  /// The whole array `name`, converted to int64.
  std::vector<std::int64_t> read_ints(const std::string& name) const {
    return array(name).read_ints();
  }
  /// A 2-D array read whole into a row-major double matrix.
  RowMatrix read_matrix(const std::string& name) const;

 protected:
  friend class File;
  /// A group over the open group `h`, at absolute path `name` inside `file`.
  Group(Handle h, std::string file, std::string name) : Node(std::move(h), file, name) {}
  /// The absolute path of `path`: itself if it starts with '/', else appended to name().
  std::string child_path(const std::string& path) const;
};

/// An HDF5 file, which is also its root group "/". Movable, not copyable.
class File : public Group {
 public:
  /// A closed file.
  File() = default;
  /// Creates `path` + ".tmp" (truncating any leftover); the file gets its final name at commit().
  static File create(const std::string& path);
  /// Opens an existing file read-only. FileError if missing or not HDF5.
  static File open(const std::string& path);
  /// close(): an uncommitted created file's temporary is removed.
  ~File();
  /// Takes over `o`'s open file (and its pending commit); `o` is left closed.
  File(File&& o) noexcept;
  /// Closes this file as close() does, then takes over `o`'s.
  File& operator=(File&& o) noexcept;
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  /// Flushes, closes (every object of the file) and renames the temporary file to its final
  /// name. Only for created files; the File is closed afterwards.
  void commit();
  /// Closes without committing: a created file's temporary is removed.
  void close();
  /// Whether the file is open (not yet committed or closed).
  bool is_open() const { return static_cast<bool>(h_); }
  /// Where a created file is being written before commit().
  const std::string& temporary_path() const { return tmp_; }

 private:
  File(Handle h, const std::string& path, std::string tmp)
      : Group(std::move(h), path, std::string(1, '/')), tmp_(std::move(tmp)) {}
  std::string tmp_;  // non-empty for a created file that is not committed yet
};

/// Path of the temporary file File::create(path) writes.
std::string temporary_path(const std::string& path);
/// Turns off HDF5's printing of its error stack (done by every File::open/create; idempotent).
void silence_errors();

}  // namespace distopt::h5
