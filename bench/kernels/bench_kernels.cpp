// Ternary GEMV benchmark for the BitNet b1.58 2B4T projection shapes ([out, in]): packed-weight
// GB/s and GOPS (2 ops per weight) for every kernel path the CPU runs, with 1 and 2 threads, next
// to a streaming memory-read bandwidth measured in the same run. "dram" cycles through enough
// copies of the matrix to defeat the caches (what decode sees); "cached" reuses one copy. The
// machine may be shared, so the stream figure is re-measured right before every dram GEMV figure
// (same thread count) and %stream is the ratio of the two.
// Prints figures only.
// Usage: bitnet_bench_kernels [--mb N] [--seconds S] [--threads a,b] [--path scalar|avx2|avx512]
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "kernels/cpu_features.h"
#include "kernels/ternary_matrix.h"
#include "kernels/thread_pool.h"

using namespace bitnet::kernels;  // a single-file program: keeps the figures code short

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

__attribute__((target("avx2"))) uint64_t sum_range_avx2(const uint8_t* p, size_t n) {
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
  for (size_t i = 0; i + 128 <= n; i += 128) {
    a0 = _mm256_add_epi64(a0, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i)));
    a1 = _mm256_add_epi64(a1, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i + 32)));
    a2 = _mm256_add_epi64(a2, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i + 64)));
    a3 = _mm256_add_epi64(a3, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i + 96)));
  }
  const __m256i s = _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3));
  alignas(32) uint64_t out[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(out), s);
  return out[0] + out[1] + out[2] + out[3];
}

// Streaming read bandwidth (GB/s) of a buffer far larger than the caches, split over the pool.
double read_bandwidth(const std::vector<uint8_t, AlignedAllocator<uint8_t>>& buf, ThreadPool& pool,
                      double min_seconds) {
  std::vector<uint64_t> sink(static_cast<size_t>(pool.size()));
  auto pass = [&] {
    pool.run([&](int w, int n) {
      int64_t b = 0, e = 0;
      split_range(static_cast<int64_t>(buf.size()), 4096, w, n, &b, &e);
      sink[w] += sum_range_avx2(buf.data() + b, static_cast<size_t>(e - b));
    });
  };
  pass();  // warm-up: page faults, frequency
  int reps = 0;
  const auto t0 = Clock::now();
  do {
    pass();
    ++reps;
  } while (seconds_since(t0) < min_seconds);
  const double secs = seconds_since(t0);
  if (sink[0] == 42) std::printf(" ");
  return static_cast<double>(buf.size()) * reps / secs / 1e9;
}

struct GemvResult {
  double gbs, gops, us_per_gemv;
};

GemvResult time_gemv(const std::vector<TernaryMatrix>& mats, const std::vector<int8_t>& q, ThreadPool& pool,
                     double min_seconds) {
  std::vector<int32_t> acc(static_cast<size_t>(mats[0].rows()));
  for (const auto& m : mats) m.gemv(q.data(), acc.data(), &pool);  // warm-up
  int64_t calls = 0;
  const auto t0 = Clock::now();
  do {
    for (const auto& m : mats) m.gemv(q.data(), acc.data(), &pool);
    calls += static_cast<int64_t>(mats.size());
  } while (seconds_since(t0) < min_seconds);
  const double secs = seconds_since(t0);
  const double bytes = static_cast<double>(mats[0].packed_bytes()) * calls;
  const double ops = 2.0 * mats[0].rows() * mats[0].cols() * calls;
  return {bytes / secs / 1e9, ops / secs / 1e9, secs / calls * 1e6};
}

std::vector<int> parse_list(const char* s) {
  std::vector<int> out;
  for (const char* p = s; *p;) {
    out.push_back(std::atoi(p));
    const char* c = std::strchr(p, ',');
    if (!c) break;
    p = c + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  double mb = 256, min_seconds = 0.25;
  std::vector<int> thread_counts = {1, 2};
  std::optional<KernelPath> only_path;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--mb"))
      mb = std::atof(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--seconds"))
      min_seconds = std::atof(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--threads"))
      thread_counts = parse_list(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--path"))
      only_path = parse_kernel_path(argv[i + 1]);
    else {
      std::fprintf(stderr,
                   "unknown option %s\nusage: %s [--mb N] [--seconds S] [--threads a,b] [--path scalar|avx2|avx512]\n",
                   argv[i], argv[0]);
      return 2;
    }
  }
  const CpuFeatures f = detect_cpu_features();
  std::printf("cpu features: %s | hardware threads: %u | working set %.0f MB\n", describe_cpu_features(f).c_str(),
              std::thread::hardware_concurrency(), mb);

  std::vector<uint8_t, AlignedAllocator<uint8_t>> buf(static_cast<size_t>(mb * 1e6) / 4096 * 4096, 1);
  for (int n : thread_counts) {
    ThreadPool pool(n);
    std::printf("stream read: %d thread(s) %.1f GB/s\n", n, read_bandwidth(buf, pool, min_seconds));
  }

  struct Shape {
    int64_t rows, cols;
    const char* name;
  };
  const Shape shapes[] = {{2560, 2560, "q/o 2560x2560"},
                          {640, 2560, "k/v 640x2560"},
                          {6912, 2560, "gate/up 6912x2560"},
                          {2560, 6912, "down 2560x6912"}};
  std::mt19937 rng(1);
  std::uniform_int_distribution<int> trit(-1, 1), act(-128, 127);
  std::printf("%-18s %-7s %3s %6s  %9s %9s %9s %9s %8s\n", "shape [out,in]", "path", "thr", "where", "GB/s", "GOPS",
              "us/gemv", "stream", "%stream");
  for (const Shape& s : shapes) {
    std::vector<int8_t> t(static_cast<size_t>(s.rows * s.cols));
    for (auto& v : t) v = static_cast<int8_t>(trit(rng));
    std::vector<int8_t> q(static_cast<size_t>(s.cols));
    for (auto& v : q) v = static_cast<int8_t>(act(rng));
    for (KernelPath path : {KernelPath::scalar, KernelPath::avx2, KernelPath::avx512}) {
      if (!kernel_path_available(path, f) || (only_path && path != *only_path)) continue;
      const TernaryMatrix one(t.data(), s.rows, s.cols, 1.0f, path);
      // Scalar is far from memory-bound; a smaller working set keeps the run short.
      const double set_mb = path == KernelPath::scalar ? 48.0 : mb;
      const size_t copies = std::max<size_t>(2, static_cast<size_t>(set_mb * 1e6 / one.packed_bytes()));
      const std::vector<TernaryMatrix> dram(copies, one), cached(1, one);
      for (size_t i = 0; i < thread_counts.size(); ++i) {
        ThreadPool pool(thread_counts[i]);
        const double stream = read_bandwidth(buf, pool, min_seconds / 2);
        const GemvResult d = time_gemv(dram, q, pool, min_seconds);
        const GemvResult c = time_gemv(cached, q, pool, min_seconds);
        std::printf("%-18s %-7s %3d %6s  %9.1f %9.1f %9.1f %9.1f %7.0f%%\n", s.name, kernel_path_name(path),
                    thread_counts[i], "dram", d.gbs, d.gops, d.us_per_gemv, stream, 100.0 * d.gbs / stream);
        std::printf("%-18s %-7s %3d %6s  %9.1f %9.1f %9.1f\n", s.name, kernel_path_name(path), thread_counts[i],
                    "cached", c.gbs, c.gops, c.us_per_gemv);
      }
    }
  }
  return 0;
}
