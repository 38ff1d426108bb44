// DADAO event throughput against ranks and dimension (run by bench/dadao_scaling.sh, which writes
// docs/data/dadao_scaling.csv and the DADAO section of docs/performance.md):
//   bench_dadao_scaling run <graph> <d> <rounds> <eval_every> <rep>
//       DADAO in virtual time on <graph> (one node per gossip agent), least squares with 20 rows
//       of dimension d per node, for <rounds> units of virtual time, the node models gathered
//       every <eval_every> rounds (as the Trainer's --eval-every does). One CSV line: the events
//       of all nodes (gradient + communication, each counted once), those on edges between two
//       ranks, wall seconds between two barriers, events per second, a fingerprint of the final
//       node models (equal at every rank count: the run is bitwise the same), and /proc/loadavg.
//   bench_dadao_scaling pingpong <d> <iters> <rep>
//       The ceiling of a cross-rank exchange: raw MPI_Send/MPI_Recv round trips of d + 3 doubles
//       (an edge event's message) between ranks 0 and 1, on MPI_COMM_WORLD; one CSV line.
// Both print a header line first when <rep> is "header".
#include <mpi.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "../mpi_tests/test_gossip_problems.hpp"
#include "distopt/comm/environment.hpp"
#include "distopt/gossip/dadao.hpp"

using namespace distopt;
using namespace distopt::gossip_test;

namespace {

std::string loadavg() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  f >> a >> b >> c;
  return a + " " + b + " " + c;
}

// Communication events on edges whose ends the placement puts on two ranks, drawn from the
// schedule every rank uses (EventSchedule), so the count does not depend on the engine.
std::uint64_t cross_events(const Dadao& a, int ranks, std::uint64_t seed, std::int64_t rounds) {
  const Graph& g = a.problem().graph();
  const Placement pl(g.nodes(), ranks, 0);
  std::vector<double> times;
  std::uint64_t count = 0;
  for (Index e = 0; e < g.edge_count(); ++e) {
    const Edge& ed = g.edge(e);
    if (pl.owner(ed.u) == pl.owner(ed.v)) continue;
    for (std::int64_t r = 1; r <= rounds; ++r) {
      EventSchedule::clock_times(seed, static_cast<std::uint64_t>(g.nodes() + e), r,
                                 a.constants().comm_rate / static_cast<double>(g.edge_count()),
                                 std::numeric_limits<double>::infinity(), times);
      count += times.size();
    }
  }
  return count;
}

void run(Communicator& comm, const std::string& graph, Index d, std::int64_t rounds,
         std::int64_t every, const std::string& rep) {
  if (rep == "header") {
    if (comm.is_root()) {
      std::printf(
          "graph,d,ranks,rounds,eval_every,rep,grad_events,comm_events,cross_rank_events,"
          "seconds,events_per_s,fingerprint,load_before,load_after\n");
    }
    return;
  }
  Problem p;
  p.n = 64;
  p.d = d;
  if (graph.rfind("ring:", 0) == 0) p.n = std::stoll(graph.substr(5));
  auto s = make_setup(comm, p, {{"algorithm", "dadao"}, {"graph", graph}});
  Dadao a(*s->ctx, dadao_options_from(s->config));
  a.initialize(s->objective->initial_point(1));
  const std::string load0 = loadavg();
  comm.barrier();
  const auto t0 = std::chrono::steady_clock::now();
  for (std::int64_t r = 1; r <= rounds; ++r) {
    a.step(r);
    if (r % every == 0) a.node_models();  // the Trainer's evaluation: a gather of every node
  }
  comm.barrier();
  const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::string load1 = loadavg();
  const std::uint64_t g = a.grad_events(), c = a.comm_events();
  const std::uint64_t fp = fingerprint(a.node_models());
  const std::uint64_t cross = cross_events(a, comm.size(), s->ctx->seed, rounds);
  if (comm.is_root()) {
    std::printf("%s,%lld,%d,%lld,%lld,%s,%llu,%llu,%llu,%.4f,%.1f,%016llx,%s,%s\n", graph.c_str(),
                static_cast<long long>(d), comm.size(), static_cast<long long>(rounds),
                static_cast<long long>(every), rep.c_str(), static_cast<unsigned long long>(g),
                static_cast<unsigned long long>(c), static_cast<unsigned long long>(cross), sec,
                static_cast<double>(g + c) / sec, static_cast<unsigned long long>(fp),
                load0.c_str(), load1.c_str());
  }
}

void pingpong(Communicator& comm, Index d, std::int64_t iters, const std::string& rep) {
  if (rep == "header") {
    if (comm.is_root())
      std::printf("d,ranks,rep,round_trips,seconds,round_trips_per_s,load_before,load_after\n");
    return;
  }
  if (comm.size() < 2) throw Error("pingpong needs 2 ranks");
  std::vector<double> buf(static_cast<std::size_t>(d) + 3, 1.0);
  const int n = static_cast<int>(buf.size());
  const std::string load0 = loadavg();
  comm.barrier();
  const auto t0 = std::chrono::steady_clock::now();
  for (std::int64_t k = 0; k < iters; ++k) {
    if (comm.rank() == 0) {
      MPI_Send(buf.data(), n, MPI_DOUBLE, 1, 0, MPI_COMM_WORLD);
      MPI_Recv(buf.data(), n, MPI_DOUBLE, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    } else if (comm.rank() == 1) {
      MPI_Recv(buf.data(), n, MPI_DOUBLE, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      MPI_Send(buf.data(), n, MPI_DOUBLE, 0, 0, MPI_COMM_WORLD);
    }
  }
  comm.barrier();
  const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (comm.is_root()) {
    std::printf("%lld,%d,%s,%lld,%.4f,%.1f,%s,%s\n", static_cast<long long>(d), comm.size(),
                rep.c_str(), static_cast<long long>(iters), sec, static_cast<double>(iters) / sec,
                load0.c_str(), loadavg().c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  Environment env(argc, argv);
  auto comm = Communicator::world();
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "run" && argc == 7) {
    run(comm, argv[2], std::stoll(argv[3]), std::stoll(argv[4]), std::stoll(argv[5]), argv[6]);
  } else if (mode == "pingpong" && argc == 5) {
    pingpong(comm, std::stoll(argv[2]), std::stoll(argv[3]), argv[4]);
  } else {
    if (comm.is_root()) {
      std::fprintf(stderr,
                   "usage: bench_dadao_scaling run <graph> <d> <rounds> <eval_every> <rep|header>\n"
                   "       bench_dadao_scaling pingpong <d> <iters> <rep|header>\n");
    }
    return 2;
  }
  std::fflush(stdout);
  return 0;
}
