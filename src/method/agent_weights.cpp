#include "distopt/method/agent_weights.hpp"

#include "distopt/core/check.hpp"

namespace distopt {

Weighting weighting_from_string(const std::string& text) {
  check::one_of("weighting", text, {"samples", "uniform"});
  return text == "uniform" ? Weighting::kUniform : Weighting::kSamples;
}

std::vector<double> agent_weights(const LocalData& data, Weighting weighting) {
  std::vector<double> w(static_cast<std::size_t>(data.agents()));
  for (std::size_t a = 0; a < w.size(); ++a) {
    w[a] = weighting == Weighting::kUniform
               ? 1.0 / static_cast<double>(w.size())
               : static_cast<double>(data.agent_rows[a]) / static_cast<double>(data.total_train);
  }
  return w;
}

}  // namespace distopt
