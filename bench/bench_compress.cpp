// Compression benchmarks (docs/results-compression.md). Five modes, each printing CSV on rank 0:
//
//   bench_compress ef  [rounds] [lr-factor] [methods,...] [econtrol-eta]   EF21-paper experiment on
//   Fashion-MNIST (T-shirt vs
//        shirt, binary logistic + 0.1·Σ x²/(1+x²), 20 workers, contiguous split): ‖∇f‖² against
//        uplink bits per worker for gd, topk without feedback, ef14, ef21, ef21w, econtrol at
//        k = 1% and 5% of d (ef21/ef21w at lr-factor × their theory step, the others at
//        ef21's; gd at 1/L).
//   bench_compress agg [reps]                 one aggregation (one agent per rank) at d = 1e4..1e7:
//        Top-1% compressed uplink (encode + allgatherv + decode) against the dense allreduce.
//   bench_compress agg-phases [reps] [d]      the phases of one Top-1% aggregation timed apart
//        (encode, allgatherv, zeroing, decode) against a plain read pass and MPI_Allreduce.
//   bench_compress powersgd [rounds] [rank]   MLP 784-64-10 on Fashion-MNIST, sgd (batch 32 per
//        worker, 8 workers): dense vs PowerSGD, loss, time per step, compression ratio.
//   bench_compress step PROBLEM [steps] [batch] [configs]   one worker per rank, sgd on
//        Fashion-MNIST (10 classes): the median time of one step for each configuration
//        (name=compressor[/feedback], comma-separated; default dense, Top-1% + EF21, PowerSGD
//        rank 1 and 4, QSGD 16 levels), with two ceilings measured in the same run: the local
//        gradient of one batch alone and one raw MPI_Allreduce of d doubles.
//        bench/compress_network.sh runs it over shaped links (docs/performance.md, "Compression on
//        a shaped link").
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

#include "distopt/comm/communicator.hpp"
#include "distopt/compress/compressed_uplink.hpp"
#include "distopt/compress/compressor.hpp"
#include "distopt/compress/power_sgd_uplink.hpp"
#include "distopt/compress/step_size.hpp"
#include "distopt/core/random.hpp"
#include "distopt/data/idx.hpp"
#include "distopt/data/local_data.hpp"
#include "distopt/method/algorithm.hpp"
#include "distopt/method/evaluator.hpp"
#include "distopt/model/objective.hpp"
#include "distopt/run/compress_config.hpp"
#include "distopt/run/method_registry.hpp"
#include "distopt/run/options.hpp"

using namespace distopt;

namespace {

double now() {
  return MPI_Wtime();
}

/// Fashion-MNIST training rows, features in [0,1], split contiguously over `agents` in file
/// order; binary (class a → +1, class b → −1, other rows dropped) or all ten classes.
LocalData fmnist(const Placement& pl, bool binary) {
  const auto m = read_mnist_like(kFashionMnistDir);
  std::vector<Index> rows;
  const auto& lab = m.train_labels.data;
  for (std::size_t i = 0; i < lab.size(); ++i) {
    if (!binary || lab[i] == 0 || lab[i] == 6) rows.push_back(static_cast<Index>(i));
  }
  const Index n_agents = pl.agents();
  const Index per = static_cast<Index>(rows.size()) / n_agents;  // equal shards (tail dropped)
  const Index d = m.train_images.row_size();
  LocalData ld;
  const Index n = pl.local_count() * per;
  RowMatrix X(n, d);
  Vector y(n);
  for (Index i = 0; i < n; ++i) {
    const auto r =
        static_cast<std::size_t>(rows[static_cast<std::size_t>(pl.local_first() * per + i)]);
    for (Index j = 0; j < d; ++j)
      X(i, j) = m.train_images.data[r * static_cast<std::size_t>(d) + static_cast<std::size_t>(j)] /
                255.0;
    y[i] = binary ? (lab[r] == 0 ? 1.0 : -1.0) : static_cast<double>(lab[r]);
  }
  const Task task = binary ? Task::kBinary : Task::kMulticlass;
  const Index classes = binary ? 2 : 10;
  ld.train = Dataset(std::move(X), std::move(y), task, classes);
  ld.task = task;
  ld.n_classes = classes;
  ld.n_features = d;
  ld.first_agent = pl.local_first();
  for (Index i = 0; i <= pl.local_count(); ++i) ld.local_offsets.push_back(i * per);
  ld.agent_rows.assign(static_cast<std::size_t>(n_agents), per);
  ld.total_train = per * n_agents;
  return ld;
}

std::uint64_t uplink_bytes(Communicator& comm) {
  return comm.allreduce_sum(comm.traffic().local_total().bytes_up);
}

void bench_ef(Communicator& comm, std::int64_t rounds, double factor, const std::string& only,
              const std::string& eta) {
  const Index n = 20;
  const Placement pl(n, comm.size(), comm.rank());
  LocalData data = fmnist(pl, true);
  Regularization reg;
  reg.nonconvex = 0.1;
  auto obj = make_objective("logistic", data.n_features, 2, Task::kBinary, reg);
  const Index d = obj->dim();
  if (comm.is_root()) std::printf("method,k,round,bits_per_worker,grad_norm_sq,lr\n");
  for (const double frac : {0.01, 0.05}) {
    const auto k =
        std::to_string(static_cast<long long>(std::llround(frac * static_cast<double>(d))));
    struct M {
      std::string name, feedback, compressor, lr;
    };
    // ef21/ef21w at factor × their own theory step; the others at ef21's (same k).
    std::vector<M> methods = {
        {"gd", "none", "none", "theory"},          {"topk", "none", "topk:" + k, "ef21"},
        {"ef14", "ef14", "topk:" + k, "ef21"},     {"ef21", "ef21", "topk:" + k, "theory"},
        {"ef21w", "ef21w", "topk:" + k, "theory"}, {"econtrol", "econtrol", "topk:" + k, "ef21"}};
    for (const auto& m : methods) {
      if (m.name == "gd" && frac != 0.01) continue;
      if (!only.empty() && ("," + only + ",").find("," + m.name + ",") == std::string::npos)
        continue;
      std::map<std::string, std::string> kv = {
          {"algorithm", "gd"},      {"agents", std::to_string(n)},
          {"feedback", m.feedback}, {"compressor", m.compressor},
          {"lr", "theory"},         {"lr-factor", std::to_string(factor)},
          {"econtrol-eta", eta}};
      if (m.lr == "ef21") kv["feedback"] = "ef21", kv["compressor"] = m.compressor;
      if (m.name == "gd") kv["lr-factor"] = "1";  // gd at its own 1/L
      Config probe_cfg = Config::from_map(train_options(), kv);
      RunContext probe{
          comm, *obj, data, pl, 1, Reduction::kAllreduce, std::vector<double>(n, 1.0 / n)};
      const double lr =
          resolve_step_size(probe, step_size_from(probe_cfg), uplink_options_from(probe_cfg));
      kv["feedback"] = m.feedback;
      char buf[64];  // the step at full precision
      std::snprintf(buf, sizeof buf, "%.17g", lr);
      kv["lr"] = buf;
      Config cfg = Config::from_map(train_options(), kv);
      RunContext ctx{
          comm, *obj, data, pl, 1, Reduction::kAllreduce, std::vector<double>(n, 1.0 / n)};
      comm.traffic().restore({}, 0, 0);
      auto algo = make_algorithm(cfg, ctx);
      Evaluator ev(ctx);
      Vector x0 = Vector::Zero(d);
      algo->initialize(x0);
      for (std::int64_t r = 0; r <= rounds; ++r) {
        if (r > 0) algo->step(r);
        if (r % 10 == 0 || r == rounds) {
          const double g = ev.evaluate(algo->model()).grad_norm_sq;
          const double bits = 8.0 * static_cast<double>(uplink_bytes(comm)) / n;
          if (comm.is_root()) {
            std::printf("%s,%s,%lld,%.0f,%.6e,%.6e\n", m.name.c_str(),
                        m.name == "gd" ? "d" : k.c_str(), static_cast<long long>(r), bits, g, lr);
          }
          if (g < 1e-9) break;
        }
      }
    }
  }
}

void bench_agg(Communicator& comm, int reps) {
  if (comm.is_root()) {
    std::printf(
        "d,method,seconds_median,seconds_encode_median,mpi_bytes_per_rank,logical_bytes_per_"
        "agent\n");
  }
  const Placement pl(comm.size(), comm.size(), comm.rank());  // one agent per rank
  for (Index d : {Index{10000}, Index{100000}, Index{1000000}, Index{10000000}}) {
    Vector v(d);
    RandomStream s(3, static_cast<std::uint64_t>(comm.rank()), 0, Purpose::kUser);
    for (Index i = 0; i < d; ++i) v[i] = s.normal();
    Vector est;
    for (const char* method : {"dense-allreduce", "topk:0.01"}) {
      std::unique_ptr<Uplink> up;
      if (std::string(method) == "dense-allreduce") {
        up = std::make_unique<DenseUplink>(comm, Reduction::kAllreduce);
      } else {
        CompressedUplinkOptions o;
        o.compressor = method;
        up = std::make_unique<CompressedUplink>(comm, Reduction::kAllreduce, pl, d, o);
      }
      std::vector<double> t, te;
      comm.traffic().restore({}, 0, 0);
      for (int r = 0; r < reps; ++r) {
        comm.barrier();
        const double t0 = now();
        up->begin(d);
        up->submit(pl.local_first(), v, 1.0);
        const double t1 = now();
        up->finish(est);
        const double t2 = comm.allreduce_max(now() - t0);
        t.push_back(t2);
        te.push_back(comm.allreduce_max(t1 - t0));
      }
      std::sort(t.begin(), t.end());
      std::sort(te.begin(), te.end());
      const auto mpi = comm.traffic().mpi_bytes() / static_cast<std::uint64_t>(reps);
      const auto logical =
          comm.traffic().agent(pl.local_first()).bytes_up / static_cast<std::uint64_t>(reps);
      if (comm.is_root()) {
        std::printf("%lld,%s,%.6e,%.6e,%llu,%llu\n", static_cast<long long>(d), method,
                    t[t.size() / 2], te[te.size() / 2], static_cast<unsigned long long>(mpi),
                    static_cast<unsigned long long>(logical));
      }
    }
  }
}

void bench_powersgd(Communicator& comm, std::int64_t rounds, int rank) {
  const Index n = 8;
  const Placement pl(n, comm.size(), comm.rank());
  LocalData data = fmnist(pl, false);
  auto obj = make_objective("mlp:64", data.n_features, 10, Task::kMulticlass, Regularization{});
  if (comm.is_root())
    std::printf(
        "compressor,rounds,loss_initial,loss_final,seconds_per_step,compression_ratio,uplink_bytes_"
        "per_worker_per_round\n");
  for (const std::string& comp : {std::string("none"), "powersgd:" + std::to_string(rank)}) {
    std::map<std::string, std::string> kv = {{"algorithm", "sgd"},
                                             {"agents", std::to_string(n)},
                                             {"compressor", comp},
                                             {"lr", "0.1"},
                                             {"batch-size", "32"}};
    Config cfg = Config::from_map(train_options(), kv);
    RunContext ctx{comm, *obj, data, pl, 1, Reduction::kAllreduce, std::vector<double>(n, 1.0 / n)};
    comm.traffic().restore({}, 0, 0);
    auto algo = make_algorithm(cfg, ctx);
    Evaluator ev(ctx);
    algo->initialize(obj->initial_point(1));
    const double l0 = ev.evaluate(algo->model()).loss;
    comm.barrier();
    const double t0 = now();
    for (std::int64_t r = 1; r <= rounds; ++r) algo->step(r);
    comm.barrier();
    const double per_step = (now() - t0) / static_cast<double>(rounds);
    const double l1 = ev.evaluate(algo->model()).loss;
    const double up = static_cast<double>(uplink_bytes(comm)) / n / static_cast<double>(rounds);
    double ratio = 1.0;
    if (comp != "none") {
      PowerSgdUplink p(comm, Reduction::kAllreduce, pl, obj->layout(), rank,
                       WirePrecision::kFloat64, 1);
      ratio = p.compression_ratio();
    }
    if (comm.is_root()) {
      std::printf("%s,%lld,%.5f,%.5f,%.4e,%.2f,%.0f\n", comp.c_str(),
                  static_cast<long long>(rounds), l0, l1, per_step, ratio, up);
    }
  }
}

/// The median of `v` (sorted in place).
double median(std::vector<double>& v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

/// `agg-phases [reps] [d]`: the phases of one Top-1% aggregation timed apart (median of reps,
/// slowest rank), with one plain read pass over v (sum of |v_i|) as the memory-bandwidth floor of
/// any selection, and the dense MPI_Allreduce of d doubles as the ceiling.
void bench_agg_phases(Communicator& comm, int reps, Index d) {
  Vector v(d);
  RandomStream s(3, static_cast<std::uint64_t>(comm.rank()), 0, Purpose::kUser);
  for (Index i = 0; i < d; ++i) v[i] = s.normal();
  auto codec = make_compressor("topk:0.01", d, WirePrecision::kFloat64, "compressor");
  std::vector<std::uint8_t> msg;
  GatheredBytes g;
  Vector est = Vector::Zero(d), dense = v;
  std::vector<double> tr, te, tg, tz, td, ta;
  double sink = 0;
  for (int r = 0; r < reps; ++r) {
    comm.barrier();
    double t0 = now();
    sink += v.cwiseAbs().sum();
    tr.push_back(comm.allreduce_max(now() - t0));
    comm.barrier();
    t0 = now();
    msg.clear();
    codec->encode(v, CompressKey{}, msg);
    te.push_back(comm.allreduce_max(now() - t0));
    comm.barrier();
    t0 = now();
    comm.allgatherv(std::span<const std::uint8_t>(msg), g);
    tg.push_back(comm.allreduce_max(now() - t0));
    comm.barrier();
    t0 = now();
    est.setZero(d);
    tz.push_back(comm.allreduce_max(now() - t0));
    comm.barrier();
    t0 = now();
    for (int q = 0; q < comm.size(); ++q) codec->decode_add(g.from(q), CompressKey{}, 1.0, est);
    td.push_back(comm.allreduce_max(now() - t0));
    comm.barrier();
    t0 = now();
    MPI_Allreduce(MPI_IN_PLACE, dense.data(), static_cast<int>(d), MPI_DOUBLE, MPI_SUM,
                  MPI_COMM_WORLD);
    ta.push_back(comm.allreduce_max(now() - t0));
  }
  if (comm.is_root()) {
    std::printf("d,read_pass,encode,allgatherv,set_zero,decode,raw_allreduce,sink\n");
    std::printf("%lld,%.3e,%.3e,%.3e,%.3e,%.3e,%.3e,%g\n", static_cast<long long>(d), median(tr),
                median(te), median(tg), median(tz), median(td), median(ta), sink);
  }
}

void bench_step(Communicator& comm, const std::string& problem, std::int64_t steps, Index batch,
                std::string configs) {
  if (configs.empty()) {
    configs =
        "dense=none,topk1%+ef21=topk:0.01/ef21,powersgd1=powersgd:1,powersgd4=powersgd:4,"
        "qsgd16=qsgd:16";
  }
  const Index n = comm.size();  // one worker per rank
  const Placement pl(n, comm.size(), comm.rank());
  LocalData data = fmnist(pl, false);
  auto obj = make_objective(problem, data.n_features, 10, Task::kMulticlass, Regularization{});
  const Index d = obj->dim();
  const Vector x0 = obj->initial_point(1);
  // Ceiling 1: the local gradient of one batch (what every step computes before it talks).
  std::vector<double> tg, ta;
  {
    const DataBlock b = data.train.block(0, std::min<Index>(batch, data.train.rows()));
    Vector g = Vector::Zero(d);
    for (std::int64_t r = 0; r < std::max<std::int64_t>(3, steps / 2); ++r) {
      comm.barrier();
      const double t0 = now();
      g.setZero();
      obj->sum_loss(x0, b, &g);
      tg.push_back(comm.allreduce_max(now() - t0));
    }
    // Ceiling 2: one raw MPI_Allreduce of d doubles (what a dense step sends).
    for (std::int64_t r = 0; r < std::max<std::int64_t>(3, steps / 2); ++r) {
      comm.barrier();
      const double t0 = now();
      MPI_Allreduce(MPI_IN_PLACE, g.data(), static_cast<int>(d), MPI_DOUBLE, MPI_SUM,
                    MPI_COMM_WORLD);
      ta.push_back(comm.allreduce_max(now() - t0));
    }
  }
  if (comm.is_root()) {
    std::printf(
        "problem,d,ranks,batch,config,compressor,feedback,steps,seconds_per_step_median,"
        "seconds_grad_median,seconds_allreduce_median,mpi_bytes_per_rank_per_step,loss_final\n");
  }
  const double sg = median(tg), sa = median(ta);
  std::size_t pos = 0;
  while (pos < configs.size()) {
    const std::size_t end = std::min(configs.find(',', pos), configs.size());
    const std::string item = configs.substr(pos, end - pos);
    pos = end + 1;
    const std::size_t eq = item.find('=');
    const std::string name = item.substr(0, eq);
    std::string comp = item.substr(eq + 1), fb = "none";
    if (const std::size_t sl = comp.find('/'); sl != std::string::npos) {
      fb = comp.substr(sl + 1);
      comp = comp.substr(0, sl);
    }
    std::map<std::string, std::string> kv = {
        {"algorithm", "sgd"}, {"agents", std::to_string(n)},
        {"compressor", comp}, {"feedback", fb},
        {"lr", "0.05"},       {"batch-size", std::to_string(batch)}};
    Config cfg = Config::from_map(train_options(), kv);
    RunContext ctx{comm, *obj, data, pl, 1, Reduction::kAllreduce, std::vector<double>(n, 1.0 / n)};
    comm.traffic().restore({}, 0, 0);
    auto algo = make_algorithm(cfg, ctx);
    algo->initialize(x0);
    std::vector<double> t;
    for (std::int64_t r = 1; r <= steps; ++r) {
      comm.barrier();
      const double t0 = now();
      algo->step(r);
      t.push_back(comm.allreduce_max(now() - t0));
    }
    const auto mpi = comm.traffic().mpi_bytes() / static_cast<std::uint64_t>(steps);
    const double loss = Evaluator(ctx).evaluate(algo->model()).loss;
    if (comm.is_root()) {
      std::printf("%s,%lld,%d,%lld,%s,%s,%s,%lld,%.6e,%.6e,%.6e,%llu,%.5f\n", problem.c_str(),
                  static_cast<long long>(d), comm.size(), static_cast<long long>(batch),
                  name.c_str(), comp.c_str(), fb.c_str(), static_cast<long long>(steps), median(t),
                  sg, sa, static_cast<unsigned long long>(mpi), loss);
      std::fflush(stdout);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  {
    auto comm = Communicator::world();
    const std::string mode = argc > 1 ? argv[1] : "agg";
    if (mode == "ef") {
      bench_ef(comm, argc > 2 ? std::stoll(argv[2]) : 2000, argc > 3 ? std::stod(argv[3]) : 1.0,
               argc > 4 ? argv[4] : "", argc > 5 ? argv[5] : "0.2");
    } else if (mode == "agg") {
      bench_agg(comm, argc > 2 ? std::stoi(argv[2]) : 7);
    } else if (mode == "agg-phases") {
      bench_agg_phases(comm, argc > 2 ? std::stoi(argv[2]) : 9,
                       argc > 3 ? static_cast<Index>(std::stoll(argv[3])) : 10000000);
    } else if (mode == "powersgd") {
      bench_powersgd(comm, argc > 2 ? std::stoll(argv[2]) : 300, argc > 3 ? std::stoi(argv[3]) : 4);
    } else if (mode == "step" && argc > 2) {
      bench_step(comm, argv[2], argc > 3 ? std::stoll(argv[3]) : 20,
                 argc > 4 ? std::stoll(argv[4]) : 32, argc > 5 ? argv[5] : "");
    } else if (comm.is_root()) {
      std::fprintf(stderr, "usage: bench_compress ef|agg|agg-phases|powersgd|step [args]\n");
    }
  }
  MPI_Finalize();
  return 0;
}
