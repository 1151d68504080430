// ThreadPool: every worker runs once per job, ranges cover [0, n) exactly once and go to whichever
// worker is free, exceptions reach the caller, the pool is reusable after an error, and it counts
// jobs and times sync on request.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "kernels/thread_pool.h"

namespace bitnet::kernels {
namespace {

TEST(ThreadPool, EveryWorkerRunsOncePerJob) {
  for (int n : {1, 2, 4}) {
    ThreadPool pool(n);
    for (int job = 0; job < 200; ++job) {
      std::vector<std::atomic<int>> hits(n);
      pool.run([&](int w, int nw) {
        EXPECT_EQ(nw, n);
        hits[w]++;
      });
      for (auto& h : hits) EXPECT_EQ(h.load(), 1);
    }
  }
}

TEST(ThreadPool, ParallelForCoversRangeOnceInGrainMultiples) {
  ThreadPool pool(3);
  for (int64_t total : {0, 1, 5, 17, 64, 1001}) {
    std::vector<std::atomic<int>> hits(static_cast<size_t>(total));
    pool.parallel_for(total, 4, [&](int64_t b, int64_t e) {
      EXPECT_EQ(b % 4, 0);
      EXPECT_TRUE(e % 4 == 0 || e == total);
      for (int64_t i = b; i < e; ++i) hits[i]++;
    });
    for (auto& h : hits) EXPECT_EQ(h.load(), 1);
  }
}

// Ranges are claimed by whichever worker is free: while the range starting at 0 is held up until
// every other range is done, the other worker takes all the rest, well over its half (a fixed
// split into halves would give it exactly half).
TEST(ThreadPool, ParallelForLetsAFreeWorkerTakeTheRest) {
  ThreadPool pool(2);
  const int64_t total = 1000;
  std::mutex m;
  std::condition_variable cv;
  int64_t others_done = 0;
  bool rest_done = false;
  std::thread::id first_thread;
  std::set<std::thread::id> other_threads;
  pool.parallel_for(total, 1, [&](int64_t b, int64_t e) {
    std::unique_lock<std::mutex> lock(m);
    if (b == 0) {
      first_thread = std::this_thread::get_id();
      rest_done = cv.wait_for(lock, std::chrono::seconds(60), [&] { return others_done == total - e; });
      return;
    }
    others_done += e - b;
    other_threads.insert(std::this_thread::get_id());
    cv.notify_all();
  });
  EXPECT_TRUE(rest_done);
  EXPECT_GT(others_done, total / 2);
  ASSERT_EQ(other_threads.size(), 1u);
  EXPECT_NE(*other_threads.begin(), first_thread);
}

TEST(ThreadPool, SplitRangeIsBalanced) {
  int64_t b = 0, e = 0;
  split_range(10, 1, 0, 3, &b, &e);
  EXPECT_EQ(b, 0);
  EXPECT_EQ(e, 4);
  split_range(10, 1, 2, 3, &b, &e);
  EXPECT_EQ(b, 7);
  EXPECT_EQ(e, 10);
}

TEST(ThreadPool, CountsJobsAndTimesSyncOnlyWhenAsked) {
  ThreadPool pool(2);
  for (int i = 0; i < 5; ++i) pool.run([](int, int) {});
  EXPECT_EQ(pool.jobs(), 5u);
  EXPECT_EQ(pool.sync_seconds(), 0.0);  // timing is off by default: no clock is read
  pool.set_sync_timing(true);
  for (int i = 0; i < 5; ++i) pool.run([](int, int) {});
  EXPECT_EQ(pool.jobs(), 10u);
  EXPECT_GT(pool.sync_seconds(), 0.0);  // announcing a job to a worker takes some time
  pool.set_sync_timing(false);
  const double sync = pool.sync_seconds();
  pool.run([](int, int) {});
  EXPECT_EQ(pool.sync_seconds(), sync);
}

TEST(ThreadPool, WorkerExceptionReachesCallerAndPoolSurvives) {
  ThreadPool pool(3);
  EXPECT_THROW(pool.run([](int w, int) {
    if (w == 2) throw std::runtime_error("boom");
  }),
               std::runtime_error);
  std::atomic<int> count{0};
  pool.run([&](int, int) { count++; });
  EXPECT_EQ(count.load(), 3);
}

}  // namespace
}  // namespace bitnet::kernels
