#include "distopt/run/data_config.hpp"

#include "distopt/data/memory_budget.hpp"
#include "distopt/model/precision.hpp"

namespace distopt {

DataSpec data_spec_from(const Config& c) {
  DataSpec s;
  s.data = c.get("data");
  s.partition = c.get("partition");
  s.seed = c.get_uint("seed");
  s.test_fraction = c.get_double("test-fraction");
  s.max_memory = parse_memory_size("max-memory", c.get("max-memory"));
  s.precision = resolve_precision(c.get("precision"), c.get("problem"));
  s.validate();
  return s;
}

ObjectiveOptions objective_options_from(const Config& c) {
  ObjectiveOptions o;
  o.problem = c.get("problem");
  o.reg.l2 = c.get_double("l2");
  o.reg.nonconvex = c.get_double("nonconvex-reg");
  o.validate();
  return o;
}

}  // namespace distopt
