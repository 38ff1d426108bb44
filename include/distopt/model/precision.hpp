#pragma once
// The one place that decides the --precision of a run from the model (issue 12 item 1):
//   auto     float32 for the models that compute in float32 (models_computing_in_float32(): the
//            MLP today), float64 for every other model: least-squares, logistic and softmax,
//            whose tests compare with closed forms to 1e-12, and models added by user code;
//   float64  always accepted;
//   float32  accepted only for a model that computes in float32. Asking it of a float64 model
//            is refused with ConfigError("precision") rather than silently widening every chunk
//            (row_chunks.hpp) and calling the result float32.
// The precision is that of the dense data held in memory; the model follows its data
// (mlp.hpp says exactly what is float32). Parameters, optimiser state, the gradients handed to
// methods and every reduction stay float64 at either precision: the Objective interface keeps
// Vector = double.
#include <span>
#include <string>

#include "distopt/data/dataset.hpp"

namespace distopt {

/// Heads of --problem specs (the part before the first ':') of the models that compute in
/// float32 on float32 data: {"mlp"}. The convolutional network joins this list once it has a
/// float32 path.
std::span<const char* const> models_computing_in_float32();

/// Whether `problem` (a --problem spec) names a model of models_computing_in_float32().
bool computes_in_float32(const std::string& problem);

/// The precision of --precision `requested` (auto | float32 | float64) for --problem `problem`
/// (rules in the file comment). ConfigError("precision") for another value, or float32 asked of
/// a float64 model.
Precision resolve_precision(const std::string& requested, const std::string& problem);

}  // namespace distopt
