// A small fork-join thread pool owned by whoever runs the model (no global pool). run(fn) calls
// fn(worker, n_workers) once on every worker, the calling thread being worker 0, and returns when
// all are done; parallel_for hands out chunks of a range to whichever worker is free. Workers spin
// briefly before sleeping because decode issues hundreds of short jobs per token. With sync
// timing on (an attached OpProfile), run() also adds up how long the calling thread spent outside
// its own share of the job: announcing it and waiting for the other workers to finish.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace bitnet::kernels {

class ThreadPool {
 public:
  // n_threads counts the calling thread; n_threads <= 1 runs everything inline.
  explicit ThreadPool(int n_threads = 1);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Calls fn(worker, size()) on each worker and waits. Not re-entrant: do not call run() from
  // inside fn. The first exception thrown by any worker is rethrown here.
  void run(const std::function<void(int worker, int n_workers)>& fn);

  // Calls fn(begin, end) on ranges that cover [0, n) once, with bounds that are multiples of
  // `grain` (except the last end). The ranges are chunks of about n / (8 size()) that the workers
  // claim as they go, so a slow worker does less of the work; fn must not depend on which worker
  // runs a range. With one thread, fn(0, n) runs inline.
  void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

  // Sync timing (off by default; then run() reads no clock). Only the calling thread touches these.
  void set_sync_timing(bool on) { sync_timing_ = on; }
  double sync_seconds() const { return sync_seconds_; }  // accumulated while timing was on
  uint64_t jobs() const { return jobs_; }                // run() calls so far

 private:
  void worker_loop(int worker);

  int n_threads_;
  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  const std::function<void(int, int)>* job_ = nullptr;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  bool stop_ = false;
  std::exception_ptr error_;
  bool sync_timing_ = false;
  double sync_seconds_ = 0.0;
  uint64_t jobs_ = 0;
};

// Range [begin, end) of worker `w` out of `n` when splitting `total` items in multiples of grain.
void split_range(int64_t total, int64_t grain, int w, int n, int64_t* begin, int64_t* end);

}  // namespace bitnet::kernels
