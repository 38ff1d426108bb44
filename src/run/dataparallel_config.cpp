#include "distopt/run/dataparallel_config.hpp"

#include "distopt/run/compress_config.hpp"

namespace distopt {

GradientDescentOptions gradient_descent_options_from(const Config& c, bool stochastic) {
  GradientDescentOptions o;
  o.stochastic = stochastic;
  o.uplink = uplink_options_from(c);
  o.downlink = downlink_options_from(c);
  o.lr = step_size_from(c);
  o.batch_size = c.get_int_at_least("batch-size", 0);
  o.validate();
  return o;
}

}  // namespace distopt
