// Gossip benchmarks (run by bench/bench_gossip.sh, which writes docs/results-gossip.md):
//   bench_gossip events            gradient and communication events to reach dist_to_opt < 1e-6,
//                                  DADAO (virtual time) vs synchronous gossip (Q = 1 and Q = 5),
//                                  on ring, grid and Erdős–Rényi graphs with n = 16..64; one CSV
//                                  line per run (run under mpirun at any rank count: identical)
//   bench_gossip wall <algo> <T> [slow] [scale] [key=value...]
//                                  wall time to dist_to_opt < 1e-6 (and 1e-3) with --grad-cost 0.0005
//                                  and --slow-rank slow, for dadao (--clock wall, --time-scale scale)
//                                  or gossip; further options as key=value (e.g. grad-rates=uniform)
// Problem: least squares with l2 = 0.1, 20 rows of dimension 4 per node, heterogeneous node
// optima (mpi_tests/test_gossip_problems.hpp).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "../mpi_tests/test_gossip_problems.hpp"
#include "distopt/comm/environment.hpp"
#include "distopt/core/error.hpp"
#include "distopt/gossip/dadao.hpp"
#include "distopt/gossip/sync_gossip.hpp"

using namespace distopt;
using namespace distopt::gossip_test;

namespace {

template <class A>
void to_target(Communicator& comm, A& a, std::int64_t max_rounds, double target, std::int64_t& rounds,
               double& g, double& c, double& dist) {
  rounds = -1;
  for (std::int64_t r = 1; r <= max_rounds; ++r) {
    a.step(r);
    MetricRow m;
    a.extra_metrics(m);
    dist = m.get("dist_to_opt");
    g = m.get("grad_events");
    c = m.get("comm_events");
    if (dist < target) {
      rounds = r;
      return;
    }
  }
  (void)comm;
}

void events_bench(Communicator& comm) {
  if (comm.is_root()) std::printf("graph,n,chi1,chi2,sqrt_chi1_chi2,method,reached,rounds,grad_events,comm_events,final_dist\n");
  const std::vector<std::pair<std::string, Index>> graphs = {
      {"ring:16", 16}, {"ring:32", 32}, {"ring:64", 64}, {"grid:4x4", 16}, {"grid:6x6", 36},
      {"grid:8x8", 64}, {"er:16:0.3", 16}, {"er:32:0.15", 32}, {"er:64:0.08", 64}};
  for (const auto& [g, n] : graphs) {
    Problem p;
    p.n = n;
    auto s = make_setup(comm, p, {{"algorithm", "dadao"}, {"graph", g}});
    Dadao d(*s->ctx, dadao_options_from(s->config));
    d.initialize(s->objective->initial_point(1));
    std::int64_t rounds;
    double ge = 0, ce = 0, dist = 0;
    to_target(comm, d, 3000, 1e-6, rounds, ge, ce, dist);
    const auto& sp = d.problem().spectrum();
    if (comm.is_root()) {
      std::printf("%s,%lld,%.4f,%.4f,%.4f,dadao,%d,%lld,%.0f,%.0f,%.3e\n", g.c_str(), (long long)n, sp.chi1, sp.chi2,
                  std::sqrt(sp.chi1 * sp.chi2), rounds > 0, (long long)rounds, ge, ce, dist);
    }
    for (int Q : {1, 5}) {
      auto s2 = make_setup(comm, p, {{"algorithm", "gossip"}, {"graph", g}, {"lr", "theory"},
                                     {"gossip-steps", std::to_string(Q)}});
      SyncGossip sg(*s2->ctx, sync_gossip_options_from(s2->config));
      sg.initialize(s2->objective->initial_point(1));
      to_target(comm, sg, 3000, 1e-6, rounds, ge, ce, dist);
      if (comm.is_root()) {
        std::printf("%s,%lld,%.4f,%.4f,%.4f,gossip-Q%d,%d,%lld,%.0f,%.0f,%.3e\n", g.c_str(), (long long)n, sp.chi1,
                    sp.chi2, std::sqrt(sp.chi1 * sp.chi2), Q, rounds > 0, (long long)rounds, ge, ce, dist);
      }
      std::fflush(stdout);
    }
  }
}

void wall_bench(Communicator& comm, const std::string& algo, std::int64_t T, const std::string& slow,
                const std::string& scale, const std::vector<std::string>& extra) {
  Problem p;
  std::map<std::string, std::string> opts{{"algorithm", algo}, {"graph", "ring"}, {"grad-cost", "0.0005"},
                                          {"lr", "theory"}};
  if (!slow.empty() && slow != "none") opts["slow-rank"] = slow;
  std::string label;
  for (const std::string& kv : extra) {  // further options as key=value
    const auto eq = kv.find('=');
    if (eq == std::string::npos) throw ConfigError(kv, "expected key=value");
    opts[kv.substr(0, eq)] = kv.substr(eq + 1);
    label += (label.empty() ? "" : " ") + kv;
  }
  if (algo == "dadao") {
    opts["clock"] = "wall";
    opts["time-scale"] = scale;
  }
  auto s = make_setup(comm, p, opts);
  std::unique_ptr<Algorithm> a = make_algorithm(s->config, *s->ctx);
  a->initialize(s->objective->initial_point(1));
  comm.barrier();
  const auto t0 = std::chrono::steady_clock::now();
  double t3 = -1, t6 = -1, dist = 0;
  std::int64_t r = 1;
  for (; r <= T; ++r) {
    a->step(r);
    MetricRow m;
    a->extra_metrics(m);
    dist = m.get("dist_to_opt");
    const double w = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (t3 < 0 && dist < 1e-3) t3 = w;
    if (t6 < 0 && dist < 1e-6) {
      t6 = w;
      break;
    }
  }
  if (comm.is_root()) {
    const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("%s,ranks=%d,slow=%s,rounds=%lld,wall=%.3f,wall_per_round=%.5f,time_to_1e-3=%.3f,time_to_1e-6=%.3f,"
                "final_dist=%.3e,options=%s\n", algo.c_str(), comm.size(), slow.empty() ? "none" : slow.c_str(),
                (long long)std::min(r, T), total, total / static_cast<double>(std::min(r, T)), t3, t6, dist,
                label.c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  Environment env(argc, argv);
  auto comm = Communicator::world();
  const std::string mode = argc > 1 ? argv[1] : "events";
  if (mode == "events") events_bench(comm);
  else if (mode == "wall" && argc >= 4)
    wall_bench(comm, argv[2], std::stoll(argv[3]), argc > 4 ? argv[4] : "", argc > 5 ? argv[5] : "0.02",
               std::vector<std::string>(argv + std::min(argc, 6), argv + argc));
  else if (comm.is_root())
    std::fprintf(stderr, "usage: bench_gossip events | wall <dadao|gossip> <rounds> [slow-rank|none] [time-scale] [key=value...]\n");
  return 0;
}
