// A fixed set of worker threads that run jobs in any order while their results are taken back in
// the order the jobs were submitted: parallel tokenizing with output in input order.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

namespace bitnet::data {

template <class Result>
class OrderedWorkers {
 public:
  explicit OrderedWorkers(int threads) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
  }

  // Jobs not yet started are dropped; running ones finish; no result is taken.
  ~OrderedWorkers() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
      jobs_.clear();
    }
    wake_.notify_all();
    for (std::thread& t : threads_) t.join();
  }

  OrderedWorkers(const OrderedWorkers&) = delete;
  OrderedWorkers& operator=(const OrderedWorkers&) = delete;

  void submit(std::function<Result()> job) {
    std::packaged_task<Result()> task(std::move(job));
    results_.push_back(task.get_future());
    {
      std::lock_guard<std::mutex> lock(mutex_);
      jobs_.push_back(std::move(task));
    }
    wake_.notify_one();
  }

  // Jobs submitted whose result was not taken yet.
  size_t pending() const { return results_.size(); }

  // The result of the oldest job not taken yet (waits for it); rethrows what the job threw.
  Result next() {
    std::future<Result> f = std::move(results_.front());
    results_.pop_front();
    return f.get();
  }

 private:
  void work() {
    for (;;) {
      std::packaged_task<Result()> task;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
        if (stopping_) return;
        task = std::move(jobs_.front());
        jobs_.pop_front();
      }
      task();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::packaged_task<Result()>> jobs_;
  std::deque<std::future<Result>> results_;  // taken only by the submitting thread
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace bitnet::data
