#pragma once
// The weights p_a of the agents in the objective f = Σ_a p_a f_a (Σ_a p_a = 1), which every method
// reads from RunContext::agent_weights.
#include <string>
#include <vector>

#include "distopt/data/local_data.hpp"

namespace distopt {

/// How agents are weighted (--weighting).
enum class Weighting {
  kSamples,  ///< p_a = n_a / n: proportional to the agent's training rows (the default)
  kUniform,  ///< p_a = 1 / N
};

/// "samples" or "uniform"; ConfigError("weighting", ...) otherwise.
Weighting weighting_from_string(const std::string& text);

/// p_a of every agent (all N, on every rank), from the row counts the loaded data hold.
std::vector<double> agent_weights(const LocalData& data, Weighting weighting);

}  // namespace distopt
