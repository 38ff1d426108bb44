#include "distopt/model/precision.hpp"

#include <array>

#include "distopt/core/error.hpp"

namespace distopt {

std::span<const char* const> models_computing_in_float32() {
  static constexpr std::array<const char*, 1> kHeads{"mlp"};
  return kHeads;
}

bool computes_in_float32(const std::string& problem) {
  const std::string head = problem.substr(0, problem.find(':'));
  for (const char* h : models_computing_in_float32()) {
    if (head == h) return true;
  }
  return false;
}

Precision resolve_precision(const std::string& requested, const std::string& problem) {
  const bool f32 = computes_in_float32(problem);
  if (requested == "auto") return f32 ? Precision::kFloat32 : Precision::kFloat64;
  if (requested == "float64") return Precision::kFloat64;
  if (requested == "float32") {
    if (f32) return Precision::kFloat32;
    std::string heads;
    for (const char* h : models_computing_in_float32())
      heads += (heads.empty() ? "" : ", ") + std::string(h);
    throw ConfigError("precision", "float32 is for the models that compute in float32 (" + heads +
                                       "); --problem " + problem +
                                       " computes in float64: give --precision float64 or auto");
  }
  throw ConfigError("precision",
                    "'" + requested + "' is not a precision (expected auto, float32 or float64)");
}

}  // namespace distopt
