// Fork-join pool: a generation counter announces a job, workers spin then sleep on a condvar.
#include "kernels/thread_pool.h"

#include <algorithm>
#include <chrono>

namespace bitnet::kernels {
namespace {
constexpr int kSpinIterations = 20000;
constexpr int kChunksPerWorker = 8;  // parallel_for: enough chunks to even out workers, few claims
using Clock = std::chrono::steady_clock;
double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}
}  // namespace

void split_range(int64_t total, int64_t grain, int w, int n, int64_t* begin, int64_t* end) {
  grain = std::max<int64_t>(grain, 1);
  const int64_t blocks = (total + grain - 1) / grain;
  const int64_t per = blocks / n, extra = blocks % n;
  const int64_t b0 = w * per + std::min<int64_t>(w, extra);
  const int64_t b1 = b0 + per + (w < extra ? 1 : 0);
  *begin = std::min(total, b0 * grain);
  *end = std::min(total, b1 * grain);
}

ThreadPool::ThreadPool(int n_threads) : n_threads_(std::max(1, n_threads)) {
  threads_.reserve(n_threads_ - 1);
  for (int w = 1; w < n_threads_; ++w) threads_.emplace_back([this, w] { worker_loop(w); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  for (auto& t : threads_) t.join();
}

void ThreadPool::run(const std::function<void(int, int)>& fn) {
  ++jobs_;
  if (n_threads_ == 1) {
    fn(0, 1);
    return;
  }
  const bool timed = sync_timing_;
  Clock::time_point t0;
  if (timed) t0 = Clock::now();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = &fn;
    error_ = nullptr;
    pending_.store(n_threads_ - 1, std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  if (timed) sync_seconds_ += seconds_between(t0, Clock::now());
  std::exception_ptr mine;
  try {
    fn(0, n_threads_);
  } catch (...) {
    mine = std::current_exception();
  }
  if (timed) t0 = Clock::now();
  for (int i = 0; i < kSpinIterations && pending_.load(std::memory_order_acquire) != 0; ++i) {
  }
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, [this] { return pending_.load(std::memory_order_acquire) == 0; });
  job_ = nullptr;
  if (timed) sync_seconds_ += seconds_between(t0, Clock::now());
  if (mine) std::rethrow_exception(mine);
  if (error_) std::rethrow_exception(error_);
}

void ThreadPool::parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  if (n_threads_ == 1) {  // one range, no chunking; run() counts the job
    run([&](int, int) { fn(0, n); });
    return;
  }
  // Chunks are claimed, not assigned: a worker that is slowed down (another process on its core,
  // a longer memory stall) takes fewer of them instead of holding up the join.
  const int64_t per_chunk = (n + int64_t{kChunksPerWorker} * n_threads_ - 1) / (int64_t{kChunksPerWorker} * n_threads_);
  const int64_t chunk = (per_chunk + grain - 1) / grain * grain;
  std::atomic<int64_t> next{0};
  run([&](int, int) {
    for (int64_t b = next.fetch_add(chunk, std::memory_order_relaxed); b < n;
         b = next.fetch_add(chunk, std::memory_order_relaxed)) {
      fn(b, std::min(n, b + chunk));
    }
  });
}

void ThreadPool::worker_loop(int worker) {
  uint64_t seen = 0;
  for (;;) {
    uint64_t gen = generation_.load(std::memory_order_acquire);
    for (int i = 0; i < kSpinIterations && gen == seen; ++i) {
      gen = generation_.load(std::memory_order_acquire);
    }
    const std::function<void(int, int)>* job = nullptr;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stop_ || generation_.load(std::memory_order_acquire) != seen; });
      if (stop_) return;
      seen = generation_.load(std::memory_order_acquire);
      job = job_;
    }
    try {
      (*job)(worker, n_threads_);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!error_) error_ = std::current_exception();
    }
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard<std::mutex> lock(mutex_);
      done_.notify_one();
    }
  }
}

}  // namespace bitnet::kernels
