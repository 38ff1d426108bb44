#pragma once
// Small string helpers shared by the option parsers, spec strings and HDF5 paths.
#include <string>
#include <vector>

namespace distopt {

/// Splits on `sep`, keeping empty fields: split("a::b", ':') = {"a", "", "b"}.
std::vector<std::string> split(const std::string& s, char sep);
/// Splits on `sep`, dropping empty fields: split_nonempty("/a//b/", '/') = {"a", "b"}.
std::vector<std::string> split_nonempty(const std::string& s, char sep);
/// A number as an ostream prints it by default (6 significant digits: 0.1, -2, 1e-08), the form
/// error messages quote values in.
std::string format_number(double v);

}  // namespace distopt
