// Communicator layer: collectives against hand-computed values (every element type), placement
// arithmetic, traffic counts, errors agreed across ranks, the neighbour-exchange channel (round
// trips, exact byte counts, isolation from the world communicator), and the counter-based random
// streams.
#include <gtest/gtest.h>

#include <numeric>
#include <set>

#include "distopt/comm/agent_sum.hpp"
#include "distopt/comm/communicator.hpp"
#include "distopt/comm/neighbor_exchange.hpp"
#include "distopt/comm/placement.hpp"
#include "distopt/comm/sparse_agent_sum.hpp"
#include "distopt/core/error.hpp"
#include "distopt/core/random.hpp"

using namespace distopt;

TEST(Communicator, AllreduceSumMatchesFormula) {
  auto comm = Communicator::world();
  const int p = comm.size();
  Vector v(1000);
  for (Index i = 0; i < v.size(); ++i) v[i] = (comm.rank() + 1) * static_cast<double>(i);
  comm.allreduce_sum(v);
  const double s = p * (p + 1) / 2.0;
  for (Index i = 0; i < v.size(); ++i) ASSERT_DOUBLE_EQ(v[i], s * static_cast<double>(i));
  EXPECT_EQ(comm.traffic().mpi_bytes(), 1000u * sizeof(double));
}

TEST(Communicator, AllgathervBytesInRankOrder) {
  auto comm = Communicator::world();
  std::vector<std::uint8_t> mine(static_cast<std::size_t>(comm.rank() + 1),
                                 static_cast<std::uint8_t>(10 + comm.rank()));
  auto all = comm.allgatherv(mine);
  ASSERT_EQ(static_cast<int>(all.counts.size()), comm.size());
  for (int r = 0; r < comm.size(); ++r) {
    auto m = all.from(r);
    ASSERT_EQ(m.size(), static_cast<std::size_t>(r + 1));
    for (auto b : m) EXPECT_EQ(b, 10 + r);
  }
}

TEST(Communicator, BroadcastAndPointToPoint) {
  auto comm = Communicator::world();
  std::string s = comm.rank() == 0 ? "hello ranks" : "";
  comm.broadcast(s);
  EXPECT_EQ(s, "hello ranks");
  // Ring exchange with nonblocking calls.
  const int p = comm.size();
  std::vector<double> out(3, comm.rank()), in(3, -1);
  auto rr = comm.irecv(std::span<double>(in), (comm.rank() + p - 1) % p, 7);
  auto sr = comm.isend(std::span<const double>(out), (comm.rank() + 1) % p, 7);
  rr.wait();
  sr.wait();
  for (double x : in) EXPECT_EQ(x, (comm.rank() + p - 1) % p);
}

TEST(Communicator, InputErrorOnOneRankIsAgreedByAll) {
  auto comm = Communicator::world();
  const int bad = comm.size() - 1;
  try {
    comm.agree_on_errors([&] {
      if (comm.rank() == bad) throw InputError("rank " + std::to_string(bad) + " saw bad input");
    });
    FAIL() << "expected an InputError on every rank";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), "rank " + std::to_string(bad) + " saw bad input");
  }
  // No error: returns normally.
  EXPECT_NO_THROW(comm.agree_on_errors([] {}));
}

TEST(Communicator, MpiErrorsBecomeTypedExceptions) {
  auto comm = Communicator::world();
  std::vector<double> buf(1);
  // Rank out of range: MPI returns MPI_ERR_RANK, which must surface as MpiError with its text.
  try {
    comm.send(std::span<const double>(buf), comm.size() + 5, 0);
    FAIL() << "expected MpiError";
  } catch (const MpiError& e) {
    EXPECT_NE(std::string(e.what()).find("MPI_Send"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("rank"), std::string::npos) << e.what();
  }
}

// The typed collectives on several element types, against exact values, with exact byte counts.
template <class T>
void check_typed_collectives(Communicator& comm) {
  SCOPED_TRACE(sizeof(T));
  const int p = comm.size(), me = comm.rank();
  const std::uint64_t b0 = comm.traffic().mpi_bytes(), c0 = comm.traffic().mpi_calls();
  std::vector<T> v = {static_cast<T>(me + 1), static_cast<T>(2 * me), static_cast<T>(3)};
  comm.allreduce_sum(std::span<T>(v));
  EXPECT_EQ(v[0], static_cast<T>(p * (p + 1) / 2));
  EXPECT_EQ(v[1], static_cast<T>(p * (p - 1)));
  EXPECT_EQ(v[2], static_cast<T>(3 * p));
  EXPECT_EQ(comm.allreduce_max(static_cast<T>(me + 5)), static_cast<T>(p + 4));
  EXPECT_EQ(comm.allreduce_min(static_cast<T>(me + 5)), static_cast<T>(5));
  std::vector<T> mm = {static_cast<T>(me), static_cast<T>(p - me)};
  comm.allreduce_max(std::span<T>(mm));
  EXPECT_EQ(mm[0], static_cast<T>(p - 1));
  EXPECT_EQ(mm[1], static_cast<T>(p));
  // 3 + 1 + 1 + 2 elements reduced, in 4 calls.
  EXPECT_EQ(comm.traffic().mpi_bytes() - b0, 7 * sizeof(T));
  EXPECT_EQ(comm.traffic().mpi_calls() - c0, 4u);
  // Broadcast from the last rank: counted there only.
  const int root = p - 1;
  std::vector<T> bc(4, me == root ? static_cast<T>(7) : static_cast<T>(0));
  const std::uint64_t b1 = comm.traffic().mpi_bytes();
  comm.broadcast(std::span<T>(bc), root);
  for (T x : bc) EXPECT_EQ(x, static_cast<T>(7));
  EXPECT_EQ(comm.broadcast_value(static_cast<T>(me == root ? 9 : 1), root), static_cast<T>(9));
  EXPECT_EQ(comm.traffic().mpi_bytes() - b1, me == root ? 5 * sizeof(T) : 0u);
  // Allgather of one value and allgatherv of me+1 values each, in rank order.
  const auto one = comm.allgather(static_cast<T>(me + 1));
  ASSERT_EQ(static_cast<int>(one.size()), p);
  for (int r = 0; r < p; ++r) EXPECT_EQ(one[static_cast<std::size_t>(r)], static_cast<T>(r + 1));
  std::vector<T> mine(static_cast<std::size_t>(me + 1), static_cast<T>(me + 1));
  const std::uint64_t b2 = comm.traffic().mpi_bytes(), c2 = comm.traffic().mpi_calls();
  // (explicit <T>: for bytes the non-template overload returns GatheredBytes)
  const auto all = comm.allgatherv<T>(std::span<const T>(mine));
  EXPECT_EQ(comm.traffic().mpi_bytes() - b2, mine.size() * sizeof(T) + sizeof(int));
  EXPECT_EQ(comm.traffic().mpi_calls() - c2, 2u);
  ASSERT_EQ(all.size(), static_cast<std::size_t>(p * (p + 1) / 2));
  std::size_t k = 0;
  for (int r = 0; r < p; ++r) {
    for (int j = 0; j <= r; ++j) EXPECT_EQ(all[k++], static_cast<T>(r + 1));
  }
  // Counts passed in: the same result, one call, no count exchange.
  std::vector<int> counts(static_cast<std::size_t>(p));
  for (int r = 0; r < p; ++r) counts[static_cast<std::size_t>(r)] = r + 1;
  const std::uint64_t b3 = comm.traffic().mpi_bytes(), c3 = comm.traffic().mpi_calls();
  const auto known = comm.allgatherv(std::span<const T>(mine), std::span<const int>(counts));
  EXPECT_EQ(comm.traffic().mpi_bytes() - b3, mine.size() * sizeof(T));
  EXPECT_EQ(comm.traffic().mpi_calls() - c3, 1u);
  EXPECT_EQ(known, all);
  // Gathers on the root only.
  const auto g = comm.gatherv<T>(std::span<const T>(mine), 0);
  const auto gk = comm.gatherv(std::span<const T>(mine), std::span<const int>(counts), 0);
  if (me == 0) {
    EXPECT_EQ(g, all);
    EXPECT_EQ(gk, all);
  } else {
    EXPECT_TRUE(g.empty());
    EXPECT_TRUE(gk.empty());
  }
}

TEST(Communicator, TypedCollectivesOnEveryElementType) {
  auto comm = Communicator::world();
  check_typed_collectives<double>(comm);
  check_typed_collectives<float>(comm);
  check_typed_collectives<std::int32_t>(comm);
  check_typed_collectives<std::uint32_t>(comm);
  check_typed_collectives<std::int64_t>(comm);
  check_typed_collectives<std::uint64_t>(comm);
  check_typed_collectives<std::uint8_t>(comm);
  check_typed_collectives<std::int8_t>(comm);
}

TEST(Communicator, CountsPassedAllgathervEqualsCountExchanging) {
  auto comm = Communicator::world();
  const int p = comm.size();
  Placement pl(37, p, comm.rank());  // uneven blocks
  std::vector<double> mine;
  for (Index a = pl.local_first(); a < pl.end(comm.rank()); ++a)
    mine.push_back(0.5 * static_cast<double>(a) + 1e-3);
  std::vector<int> counts;
  for (int r = 0; r < p; ++r) counts.push_back(static_cast<int>(pl.count(r)));
  const auto exchanged = comm.allgatherv(std::span<const double>(mine));
  const auto known = comm.allgatherv(std::span<const double>(mine), std::span<const int>(counts));
  EXPECT_EQ(known, exchanged);
  ASSERT_EQ(known.size(), 37u);
  for (std::size_t a = 0; a < known.size(); ++a)
    EXPECT_EQ(known[a], 0.5 * static_cast<double>(a) + 1e-3);
  // A count that disagrees with this rank's buffer is refused before MPI is called.
  std::vector<int> wrong = counts;
  wrong[static_cast<std::size_t>(comm.rank())] += 1;
  EXPECT_THROW(comm.allgatherv(std::span<const double>(mine), std::span<const int>(wrong)), Error);
  std::vector<int> short_counts(counts.begin(), counts.end() - 1);
  EXPECT_THROW(comm.allgatherv(std::span<const double>(mine), std::span<const int>(short_counts)),
               Error);
}

TEST(Communicator, DuplicateSharesTrafficAndIsIsolated) {
  auto comm = Communicator::world();
  Communicator dup = comm.duplicate();
  EXPECT_EQ(dup.rank(), comm.rank());
  EXPECT_EQ(dup.size(), comm.size());
  const std::uint64_t b0 = comm.traffic().mpi_bytes();
  dup.allreduce_sum(1.0);
  EXPECT_EQ(comm.traffic().mpi_bytes() - b0, sizeof(double));  // counted in the parent
  EXPECT_EQ(&dup.traffic(), &comm.traffic());
  Communicator alone = comm.duplicate(false);
  alone.allreduce_sum(1.0);
  EXPECT_EQ(comm.traffic().mpi_bytes() - b0, sizeof(double));
  EXPECT_EQ(alone.traffic().mpi_bytes(), sizeof(double));
}

namespace {

// Agent a's sparse vector: entries at the coordinates j with (j * 7 + a) % 5 < 2 of [0, dim),
// overlapping between agents, values from the agent's own stream.
void sparse_of_agent(Index a, Index dim, std::vector<Index>& idx, std::vector<double>& val) {
  idx.clear();
  val.clear();
  RandomStream s(3, static_cast<std::uint64_t>(a), 0, Purpose::kUser);
  for (Index j = 0; j < dim; ++j) {
    if ((j * 7 + a) % 5 < 2) {
      idx.push_back(j);
      val.push_back(s.normal());
    }
  }
}

}  // namespace

// The sparse sum equals the dense AgentSum of the scattered vectors: bitwise with kOrdered, to
// rounding with kAllreduce; the bytes handed to MPI are this rank's records (4 + 12 nnz each,
// one merged record per rank under kAllreduce) plus the count exchange.
TEST(SparseAgentSum, EqualsDenseAgentSumWithExactBytes) {
  auto comm = Communicator::world();
  constexpr Index kAgents = 7, kDim = 53;
  const Placement pl(kAgents, comm.size(), comm.rank());
  for (const Reduction mode : {Reduction::kOrdered, Reduction::kAllreduce}) {
    SparseAgentSum sparse(comm, mode);
    AgentSum dense(comm, Reduction::kOrdered);
    sparse.reset(kDim);
    dense.reset(kDim);
    std::vector<Index> idx;
    std::vector<double> val;
    std::set<Index> union_idx;
    std::uint64_t records = 0;
    bool added = false;
    for (Index a = pl.local_first(); a < pl.end(pl.rank()); ++a) {
      if (a == 2) continue;  // an agent that contributes nothing
      sparse_of_agent(a, kDim, idx, val);
      const double w = 0.5 + static_cast<double>(a);
      sparse.add(a, idx, val, w);
      Vector v = Vector::Zero(kDim);
      for (std::size_t k = 0; k < idx.size(); ++k) v[idx[k]] = val[k];
      dense.add(a, v, w);
      records += SparseAgentSum::record_bytes(static_cast<Index>(idx.size()));
      union_idx.insert(idx.begin(), idx.end());
      added = true;
    }
    if (mode == Reduction::kAllreduce) {
      records = added ? SparseAgentSum::record_bytes(static_cast<Index>(union_idx.size())) : 0;
    }
    const std::uint64_t b0 = comm.traffic().mpi_bytes();
    Vector s, d;
    sparse.finish(s);
    EXPECT_EQ(comm.traffic().mpi_bytes() - b0, records + sizeof(int));
    dense.finish(d);
    ASSERT_EQ(s.size(), kDim);
    if (mode == Reduction::kOrdered) {
      for (Index j = 0; j < kDim; ++j) ASSERT_EQ(s[j], d[j]) << j;
    } else {
      EXPECT_LE((s - d).lpNorm<Eigen::Infinity>(), 1e-13 * d.lpNorm<Eigen::Infinity>());
    }
    EXPECT_GT(d.norm(), 0.0);
  }
}

TEST(SparseAgentSum, RejectsUnorderedInput) {
  auto comm = Communicator::world();
  SparseAgentSum sum(comm, Reduction::kOrdered);
  sum.reset(10);
  const std::vector<Index> bad = {3, 3};
  const std::vector<double> v = {1, 2};
  EXPECT_THROW(sum.add(0, bad, v), Error);
  const std::vector<Index> out_of_range = {4, 10};
  EXPECT_THROW(sum.add(1, out_of_range, v), Error);
  const std::vector<Index> ok = {1, 4};
  sum.add(2, ok, v);
  EXPECT_THROW(sum.add(2, ok, v), Error);  // agents must increase
  Vector out;
  sum.finish(out);
  EXPECT_EQ(out[1], static_cast<double>(comm.size()));  // every rank added agent 2 once
  EXPECT_EQ(out[4], 2.0 * comm.size());
}

// A ring of agents, one per rank: each sends [2 header values | 3 payload values] to the next rank
// on the edge's tag and receives the previous rank's, blocking and nonblocking.
TEST(NeighborExchange, RoundTripWithExactByteCounts) {
  auto comm = Communicator::world();
  const int p = comm.size(), me = comm.rank();
  const int next = (me + 1) % p, prev = (me + p - 1) % p;
  const Index agent = 100 + me;
  NeighborExchange ch(comm);
  EXPECT_EQ(ch.rank(), me);
  EXPECT_EQ(ch.size(), p);
  const AgentTraffic t0 = comm.traffic().agent(agent);
  const std::uint64_t b0 = comm.traffic().mpi_bytes(), c0 = comm.traffic().mpi_calls();
  // Edge e joins ranks e and e+1: I send on edge `me`, receive on edge `prev`.
  std::vector<double> out = {static_cast<double>(me), 1.0, 10.0 * me, 10.0 * me + 1, 10.0 * me + 2};
  std::vector<double> in(5, -1);
  Request r = ch.irecv(std::span<double>(in), prev, ch.edge_tag(prev));
  Request s = ch.isend(std::span<const double>(out), next, ch.edge_tag(me), {agent, 2});
  r.wait();
  s.wait();
  EXPECT_EQ(in[0], prev);
  for (int j = 0; j < 3; ++j) EXPECT_EQ(in[static_cast<std::size_t>(2 + j)], 10.0 * prev + j);
  // Blocking variant, the other way round, counted to nobody: physical bytes only.
  std::vector<float> back(4, static_cast<float>(me)), got(4, -1);
  Request s2 =
      ch.isend(std::span<const float>(back), prev, ch.kind_tag(3), {PeerMessage::kNoAgent});
  const MessageInfo info = ch.recv(std::span<float>(got), next, ch.kind_tag(3));
  s2.wait();
  EXPECT_EQ(info.source, next);
  EXPECT_EQ(info.tag, 3);
  EXPECT_EQ(info.bytes, 4 * sizeof(float));
  for (float x : got) EXPECT_EQ(x, static_cast<float>(next));
  // A symmetric exchange on one edge between ranks 0 and 1 (or a self-loop on one rank).
  std::vector<double> mine2 = {7, static_cast<double>(me)}, theirs2(2, -1);
  const int partner = p > 1 ? (me < 2 ? 1 - me : -1) : 0;
  if (partner >= 0) {
    ch.exchange(std::span<const double>(mine2), std::span<double>(theirs2), partner,
                ch.edge_tag(123456), {agent, 1});
    EXPECT_EQ(theirs2[1], partner);
  }
  ch.count_in_memory(agent, 24);
  const AgentTraffic t1 = comm.traffic().agent(agent);
  const std::uint64_t ex = partner >= 0 ? 1 : 0;
  // Logical: 3 payload doubles + (exchange: 1 double) + 24 in memory; messages 1 + ex + 1.
  EXPECT_EQ(t1.bytes_peer - t0.bytes_peer, 3 * sizeof(double) + ex * sizeof(double) + 24);
  EXPECT_EQ(t1.messages_peer - t0.messages_peer, 2 + ex);
  // Physical: every sent element, headers included, into the parent's counters; receives free.
  EXPECT_EQ(comm.traffic().mpi_bytes() - b0,
            5 * sizeof(double) + 4 * sizeof(float) + ex * 2 * sizeof(double));
  EXPECT_EQ(comm.traffic().mpi_calls() - c0, 2 + ex);
  // Tags are validated.
  EXPECT_EQ(ch.edge_tag(0), NeighborExchange::kEdgeTagBase);
  EXPECT_EQ(ch.edge_tag(NeighborExchange::kEdgeTagSpan + 5), NeighborExchange::kEdgeTagBase + 5);
  EXPECT_THROW(ch.edge_tag(-1), Error);
  EXPECT_THROW(ch.kind_tag(-1), Error);
  EXPECT_THROW(ch.kind_tag(NeighborExchange::kEdgeTagBase), Error);
}

// A message on the world communicator with the channel's tag is not seen by the channel, and the
// channel's message is not seen by a receive on the world communicator.
TEST(NeighborExchange, IsolatedFromTheWorldCommunicator) {
  auto comm = Communicator::world();
  const int p = comm.size(), me = comm.rank();
  const int next = (me + 1) % p, prev = (me + p - 1) % p;
  NeighborExchange ch(comm);
  const int tag = ch.edge_tag(42);
  std::vector<double> world_msg = {1.0, 2.0}, chan_msg = {3.0, 4.0, 5.0};
  Request w = comm.isend(std::span<const double>(world_msg), next, tag);
  comm.barrier();  // the world message has been posted everywhere (and, with eager sends, arrived)
  MessageInfo info;
  bool seen = false;
  for (int i = 0; i < 100; ++i) seen |= ch.iprobe(info);
  EXPECT_FALSE(seen);
  comm.barrier();  // nobody sends on the channel before every rank has probed it
  Request c = ch.isend(std::span<const double>(chan_msg), next, tag);
  // Each side receives exactly its own message, whatever arrives first.
  std::vector<double> a(3, -1), b(3, -1);
  const MessageInfo wi = comm.recv(std::span<double>(a), prev, tag);
  const MessageInfo ci = ch.recv(std::span<double>(b), prev, tag);
  w.wait();
  c.wait();
  EXPECT_EQ(wi.bytes, 2 * sizeof(double));
  EXPECT_EQ(a[0], 1.0);
  EXPECT_EQ(a[1], 2.0);
  EXPECT_EQ(ci.bytes, 3 * sizeof(double));
  EXPECT_EQ(b[2], 5.0);
  comm.barrier();
  EXPECT_FALSE(ch.iprobe(info));
  EXPECT_FALSE(comm.iprobe(Communicator::any_source, Communicator::any_tag, info));
}

TEST(Placement, ContiguousBlocksCoverEveryAgentOnce) {
  for (int p : {1, 2, 3, 4, 7}) {
    for (Index n : {7, 8, 100, 1000}) {
      if (n < p) continue;
      Index next = 0;
      for (int r = 0; r < p; ++r) {
        Placement pl(n, p, r);
        EXPECT_EQ(pl.local_first(), next);
        for (Index a = pl.local_first(); a < pl.end(r); ++a) EXPECT_EQ(pl.owner(a), r);
        EXPECT_LE(pl.count(0) - pl.count(p - 1), 1);
        next = pl.end(r);
      }
      EXPECT_EQ(next, n);
    }
  }
  EXPECT_THROW(Placement(0, 2, 0), ConfigError);
}

TEST(Random, PhiloxKnownAnswer) {
  // Random123 kat_vectors: philox4x32 10 rounds, counter = key = 0.
  auto r = philox4x32({0, 0, 0, 0}, {0, 0});
  EXPECT_EQ(r[0], 0x6627e8d5u);
  EXPECT_EQ(r[1], 0xe169c58du);
  EXPECT_EQ(r[2], 0xbc57ac4cu);
  EXPECT_EQ(r[3], 0x9b00dbd8u);
  auto s = philox4x32({0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}, {0xffffffffu, 0xffffffffu});
  EXPECT_EQ(s[0], 0x408f276du);
  EXPECT_EQ(s[1], 0x41c83b0eu);
  EXPECT_EQ(s[2], 0xa20bc7c6u);
  EXPECT_EQ(s[3], 0x6d5451fdu);
}

TEST(Random, StreamsAreKeyedAndReproducible) {
  RandomStream a(42, 3, 10, Purpose::kMinibatch), b(42, 3, 10, Purpose::kMinibatch);
  RandomStream c(42, 4, 10, Purpose::kMinibatch), d(42, 3, 11, Purpose::kMinibatch);
  RandomStream e(42, 3, 10, Purpose::kSampling);
  int same_c = 0, same_d = 0, same_e = 0;
  for (int i = 0; i < 100; ++i) {
    auto x = a();
    EXPECT_EQ(x, b());
    same_c += x == c();
    same_d += x == d();
    same_e += x == e();
  }
  EXPECT_LT(same_c + same_d + same_e, 3);
}

TEST(Random, UniformMomentsAndSampling) {
  RandomStream s(7, 0, 0);
  const int n = 200000;
  double sum = 0, sum2 = 0, nsum = 0, nsum2 = 0;
  for (int i = 0; i < n; ++i) {
    double u = s.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
    sum2 += u * u;
    double z = s.normal();
    nsum += z;
    nsum2 += z * z;
  }
  // Mean 1/2 (sd of the estimate 0.29/sqrt(n) = 6.5e-4), variance 1/12; N(0,1) moments.
  EXPECT_NEAR(sum / n, 0.5, 4e-3);
  EXPECT_NEAR(sum2 / n - 0.25, 1.0 / 12, 4e-3);
  EXPECT_NEAR(nsum / n, 0.0, 1e-2);
  EXPECT_NEAR(nsum2 / n, 1.0, 2e-2);
  for (Index k : {0, 1, 5, 50, 99, 100}) {
    auto idx = s.sample_without_replacement(100, k);
    ASSERT_EQ(static_cast<Index>(idx.size()), k);
    std::set<Index> u(idx.begin(), idx.end());
    EXPECT_EQ(static_cast<Index>(u.size()), k);
    EXPECT_TRUE(std::is_sorted(idx.begin(), idx.end()));
    for (Index i : idx) EXPECT_TRUE(i >= 0 && i < 100);
  }
}
