#pragma once
// How the engines that wait for messages (DADAO's, the asynchronous federated wall clock) wait
// without busy polling. Open MPI's blocking calls poll without ever giving the core away (at
// np <= cores, unless --mca mpi_yield_when_idle 1): on a loaded machine a rank that waits for a
// descheduled partner then burns the time slice the partner needs. wait_without_spinning() tests
// instead, with pauses that grow: a short spin (a reply microseconds away costs no context
// switch), then sched_yield, then sleeps of 50 µs (about 0.1 ms with Linux's default timer
// slack), whose cost is negligible next to a time slice.
#include <chrono>
#include <thread>

namespace distopt {

/// Calls `done()` (which must drive MPI progress, e.g. by MPI_Test) until it returns true,
/// pausing between calls as described above.
template <class Done>
void wait_without_spinning(Done&& done) {
  using clock = std::chrono::steady_clock;
  constexpr auto kSpinFor = std::chrono::microseconds(20);
  constexpr auto kYieldFor = std::chrono::microseconds(200);
  constexpr auto kSleep = std::chrono::microseconds(50);
  const auto t0 = clock::now();
  while (!done()) {
    const auto waited = clock::now() - t0;
    if (waited < kSpinFor) continue;
    if (waited < kYieldFor)
      std::this_thread::yield();
    else
      std::this_thread::sleep_for(kSleep);
  }
}

}  // namespace distopt
