#include "distopt/federated/async_schedule.hpp"

#include <algorithm>

#include "distopt/core/error.hpp"

namespace distopt {

bool InFlight::operator<(const InFlight& o) const {
  if (t_arrival != o.t_arrival) return t_arrival < o.t_arrival;
  if (client != o.client) return client < o.client;
  return seq < o.seq;
}

void ArrivalQueue::push(const InFlight& f) {
  q_.insert(std::upper_bound(q_.begin(), q_.end(), f), f);
}

const InFlight& ArrivalQueue::top() const {
  if (q_.empty()) throw Error("ArrivalQueue: no client in flight");
  return q_.front();
}

InFlight ArrivalQueue::pop() {
  InFlight f = top();
  q_.erase(q_.begin());
  return f;
}

}  // namespace distopt
