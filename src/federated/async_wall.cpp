// The wall clock of the asynchronous federated methods (async_federated.hpp, file comment): the
// server on rank 0, one worker thread per rank training the clients it owns, nonblocking messages
// on a duplicated communicator, a nonblocking barrier at the end of every round (the termination
// scheme of DADAO's wall clock, gossip/wall_clock_engine.cpp: Hoefler et al.'s NBX).
#include <cmath>

#include "distopt/comm/agent_sum.hpp"
#include "distopt/core/error.hpp"
#include "distopt/core/wait_without_spinning.hpp"
#include "distopt/data/local_data.hpp"
#include "distopt/federated/async_federated.hpp"
#include "distopt/model/objective.hpp"

namespace distopt {

namespace {
// Message kinds (tags on the duplicated communicator) and their headers (doubles, exact below
// 2^53): a dispatch (rank 0 → owner) carries client, version, seq, nth, then x; an update (owner
// → rank 0) client, version, seq, then u; round-done and finish carry nothing.
constexpr int kDispatch = 1;
constexpr int kUpdate = 2;
constexpr int kRoundDone = 3;
constexpr int kFinish = 4;
constexpr std::size_t kDispatchHeader = 4;
constexpr std::size_t kUpdateHeader = 3;
constexpr std::uint64_t kValueBytes = sizeof(double);
}  // namespace

double AsyncFederated::wall_time() const {
  const auto t = pause_start_ ? *pause_start_ : std::chrono::steady_clock::now();
  return std::chrono::duration<double>(t - t0_).count() - paused_;
}

void AsyncFederated::resume_clock() {
  if (!pause_start_) return;
  paused_ +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - *pause_start_).count();
  pause_start_.reset();
}

void AsyncFederated::pause_clock() {
  pause_start_ = std::chrono::steady_clock::now();
}

void AsyncFederated::start_wall() {
  wcomm_ = std::make_unique<Communicator>(ctx_.comm.duplicate(true));
  self_ = std::make_unique<Communicator>(Communicator::self());
  ctx_.comm.barrier();
  t0_ = std::chrono::steady_clock::now();
  paused_ = 0;
  pause_start_.reset();
  objective_hold_ = std::unique_lock<std::mutex>(objective_mu_, std::defer_lock);
  worker_ = std::thread([this] { worker_loop(); });
  wall_started_ = true;
  if (ctx_.comm.is_root()) wall_start();
}

void AsyncFederated::worker_loop() {
  // This rank's clients, one at a time in dispatch order. Only this thread runs solver_; every
  // objective call holds objective_mu_, which the main thread holds while the Trainer evaluates.
  Vector y;
  for (;;) {
    Job j;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !jobs_.empty(); });
      if (stop_) return;
      j = std::move(jobs_.front());
      jobs_.pop_front();
      working_ = true;
    }
    const double lr =
        opt_.federated.lr * std::pow(opt_.federated.lr_decay, static_cast<double>(j.f.version));
    y = j.x;
    std::uint64_t evals = 0;
    bool aborted = false;
    try {
      solver_.run(
          j.f.client, static_cast<std::int64_t>(j.nth), ctx_.data.shard(j.f.client), lr, y,
          [&](const Vector& yy, const DataBlock& batch, Vector& dir) {
            double measured = 0;
            {
              std::lock_guard<std::mutex> hold(objective_mu_);
              {
                std::lock_guard<std::mutex> lock(mu_);
                aborted = aborted || stop_;
              }
              if (aborted) {  // the run is being torn down: finish without computing
                dir.setZero(yy.size());
                return 0;
              }
              const auto t = std::chrono::steady_clock::now();
              ctx_.objective.loss_grad(yy, batch, dir);
              measured =
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
            }
            cost_.after_gradient(measured);  // --grad-cost, --slow-rank: slept, outside the lock
            return 1;
          },
          &evals);
    } catch (...) {
      // Rethrown by the main thread (pump()), whose exception ends the job as any rank's does.
      std::lock_guard<std::mutex> lock(mu_);
      worker_error_ = std::current_exception();
      working_ = false;
      return;
    }
    std::lock_guard<std::mutex> lock(mu_);
    grad_evals_[static_cast<std::size_t>(ctx_.placement.local_index(j.f.client))] += evals;
    done_.push_back({j.f, y - j.x});
    working_ = false;
  }
}

void AsyncFederated::stop_worker() {
  if (!worker_.joinable()) return;
  if (objective_hold_.owns_lock()) objective_hold_.unlock();
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  worker_.join();
}

void AsyncFederated::send(int dest, int kind, std::vector<double> buf) {
  sends_.push_back({std::move(buf), Request()});
  sends_.back().req = wcomm_->isend(std::span<const double>(sends_.back().buf), dest, kind);
}

void AsyncFederated::reap_sends(bool wait) {
  while (!sends_.empty()) {
    if (wait) {
      sends_.front().req.wait();
    } else if (!sends_.front().req.test()) {
      break;
    }
    sends_.pop_front();
  }
}

void AsyncFederated::receipt(const InFlight& sent, Vector u) {
  // Rank 0: an update came in. Exactly once per dispatch: its flight is removed here.
  auto it = flights_.find(sent.seq);
  if (it == flights_.end() || it->second.client != sent.client) {
    throw Error("AsyncFederated wall clock: update of an unknown flight " +
                std::to_string(sent.seq));
  }
  InFlight f = it->second;
  flights_.erase(it);
  f.t_arrival = wall_time();
  busy_[static_cast<std::size_t>(f.client)] = 0;
  ++received_;
  ctx_.comm.traffic().add_up(f.client, static_cast<std::uint64_t>(u.size()) * kValueBytes);
  backlog_.push_back({f, std::move(u)});
  process_backlog();
}

void AsyncFederated::process_backlog() {
  while (!round_over_ && !backlog_.empty() && !buffer_full()) {
    Done a = std::move(backlog_.front());
    backlog_.pop_front();
    const double factor = arrival_factor(a.f);
    buffer_.push_back({a.f.client, version_ - a.f.version});
    Vector& acc = buffered_all_[static_cast<std::size_t>(a.f.client)];
    // factor 1 copies u exactly, as buffer() does for the virtual clock.
    if (acc.size() == 0) {
      if (factor == 1.0) {
        acc.swap(a.u);
      } else {
        acc = factor * a.u;
      }
    } else {
      acc.noalias() += factor * a.u;
    }
    maybe_update();
    // After the buffer (and the update it may complete): FedBuff's replacement downloads the
    // model the server holds once this arrival is in, as with the virtual clock. An arrival that
    // waits in the backlog (the round is ending) is replaced when it is buffered.
    on_arrival(a.f);
  }
  maybe_update();
}

void AsyncFederated::maybe_update() {
  if (round_over_ || !wall_ready()) return;
  t_now_ = wall_time();
  server_update();
  round_over_ = true;
  for (int r = 1; r < ctx_.comm.size(); ++r) send(r, kRoundDone, {});
  after_update();
}

bool AsyncFederated::pump() {
  bool any = false;
  MessageInfo info;
  const Index d = x_.size();
  while (wcomm_->iprobe(Communicator::any_source, Communicator::any_tag, info)) {
    any = true;
    recv_.assign(info.bytes / sizeof(double), 0.0);
    wcomm_->recv(std::span<double>(recv_), info.source, info.tag);
    if (info.tag == kDispatch) {
      if (recv_.size() != kDispatchHeader + static_cast<std::size_t>(d))
        throw Error("AsyncFederated wall clock: malformed dispatch");
      Job j;
      j.f.client = static_cast<Index>(recv_[0]);
      j.f.version = static_cast<std::int64_t>(recv_[1]);
      j.f.seq = static_cast<std::uint64_t>(recv_[2]);
      j.nth = static_cast<std::uint64_t>(recv_[3]);
      j.x = Eigen::Map<const Vector>(recv_.data() + kDispatchHeader, d);
      std::lock_guard<std::mutex> lock(mu_);
      jobs_.push_back(std::move(j));
      cv_.notify_one();
    } else if (info.tag == kUpdate) {
      if (recv_.size() != kUpdateHeader + static_cast<std::size_t>(d))
        throw Error("AsyncFederated wall clock: malformed update");
      InFlight f;
      f.client = static_cast<Index>(recv_[0]);
      f.version = static_cast<std::int64_t>(recv_[1]);
      f.seq = static_cast<std::uint64_t>(recv_[2]);
      receipt(f, Eigen::Map<const Vector>(recv_.data() + kUpdateHeader, d));
    } else if (info.tag == kRoundDone) {
      ++rounds_done_;  // counted: rank 0 may end round r+1 while this rank is in r's drain
    } else if (info.tag == kFinish) {
      finish_seen_ = true;
    } else {
      throw Error("AsyncFederated wall clock: unexpected message tag " + std::to_string(info.tag));
    }
  }
  std::deque<Done> done;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (worker_error_) std::rethrow_exception(worker_error_);
    done.swap(done_);
  }
  for (Done& a : done) {
    any = true;
    if (ctx_.comm.is_root()) {
      receipt(a.f, std::move(a.u));
    } else {
      std::vector<double> buf{static_cast<double>(a.f.client), static_cast<double>(a.f.version),
                              static_cast<double>(a.f.seq)};
      buf.insert(buf.end(), a.u.data(), a.u.data() + d);
      send(0, kUpdate, std::move(buf));
    }
  }
  if (ctx_.comm.is_root()) maybe_update();  // FedFix: the interval may have elapsed
  reap_sends(false);
  return any;
}

void AsyncFederated::sync_replicated() {
  // Collective: rank 0's server state to every rank, so that model() and the metrics are
  // replicated as with the virtual clock.
  ctx_.comm.broadcast(x_);
  const auto n = client_applied_.size();
  std::vector<double> s{static_cast<double>(version_),
                        static_cast<double>(arrivals_),
                        static_cast<double>(dispatches_),
                        static_cast<double>(flights_.size()),
                        last_buffer_,
                        last_staleness_mean_,
                        last_staleness_max_,
                        t_now_,
                        static_cast<double>(received_),
                        static_cast<double>(histogram_.size())};
  const std::size_t head = s.size();
  for (std::size_t i = 0; i < n; ++i) s.push_back(static_cast<double>(client_applied_[i]));
  for (std::size_t i = 0; i < n; ++i) s.push_back(static_cast<double>(client_staleness_[i]));
  ctx_.comm.broadcast(s);
  version_ = static_cast<std::int64_t>(s[0]);
  arrivals_ = static_cast<std::uint64_t>(s[1]);
  dispatches_ = static_cast<std::uint64_t>(s[2]);
  flights_size_ = static_cast<Index>(s[3]);
  last_buffer_ = s[4];
  last_staleness_mean_ = s[5];
  last_staleness_max_ = s[6];
  t_now_ = s[7];
  received_ = static_cast<std::uint64_t>(s[8]);
  for (std::size_t i = 0; i < n; ++i) {
    client_applied_[i] = static_cast<std::uint64_t>(s[head + i]);
    client_staleness_[i] = static_cast<std::uint64_t>(s[head + n + i]);
  }
  std::vector<double> h(static_cast<std::size_t>(s[9]), 0.0);
  for (std::size_t t = 0; t < histogram_.size() && t < h.size(); ++t)
    h[t] = static_cast<double>(histogram_[t]);
  ctx_.comm.broadcast(h);
  histogram_.assign(h.size(), 0);
  for (std::size_t t = 0; t < h.size(); ++t) histogram_[t] = static_cast<std::uint64_t>(h[t]);
}

void AsyncFederated::wall_round() {
  if (wall_finished_) throw Error("AsyncFederated: step() after finish_wall()");
  if (!wall_started_) start_wall();
  if (objective_hold_.owns_lock()) objective_hold_.unlock();  // the workers may compute again
  resume_clock();
  round_over_ = false;
  ++rounds_entered_;
  const bool root = ctx_.comm.is_root();
  if (root) process_backlog();  // arrivals of the last drain first
  wait_without_spinning([&] {
    pump();
    return root ? round_over_ : rounds_done_ >= rounds_entered_;
  });
  // Every rank knows the round is over: serve (training and returning clients, buffering their
  // updates for the next round) until every rank is here. No server update happens in the drain
  // (round_over_ stays set on rank 0), so x is final for this round.
  Request all_here = ctx_.comm.ibarrier();
  wait_without_spinning([&] {
    pump();
    return all_here.test();
  });
  pause_clock();
  sync_replicated();
  objective_hold_.lock();  // the workers pause at their next local step while the Trainer evaluates
}

void AsyncFederated::finish_wall() {
  if (!wall() || !wall_started_ || wall_finished_) return;
  wall_finished_ = true;
  if (objective_hold_.owns_lock()) objective_hold_.unlock();
  resume_clock();
  round_over_ = true;  // no more server updates: late arrivals stay in the backlog
  const bool root = ctx_.comm.is_root();
  if (root) {
    stopping_ = true;  // dispatch() does nothing from now on
    for (int r = 1; r < ctx_.comm.size(); ++r) send(r, kFinish, {});
  }
  auto idle = [&] {
    std::lock_guard<std::mutex> lock(mu_);
    return jobs_.empty() && done_.empty() && !working_;
  };
  // Rank 0 waits for every flight's update; the others until rank 0's last dispatch (it comes
  // before kFinish: messages between two ranks do not overtake) is trained and sent.
  wait_without_spinning([&] {
    pump();
    return root ? flights_.empty() && idle() : finish_seen_ && idle();
  });
  Request all_here = ctx_.comm.ibarrier();
  wait_without_spinning([&] {
    pump();
    return all_here.test();
  });
  reap_sends(true);
  pause_clock();
  sync_replicated();
  stop_worker();
}

}  // namespace distopt
