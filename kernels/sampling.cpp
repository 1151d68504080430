// Greedy / temperature / top-k / top-p sampling over a logits vector (see sampling.h).
#include "kernels/sampling.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "kernels/errors.h"

namespace bitnet::kernels {

uint64_t Rng::next_u64() {
  uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

double Rng::next_double() {
  return static_cast<double>(next_u64() >> 11) * 0x1.0p-53;
}

namespace {

// NaN would break the ordering the samplers rely on; it means the forward pass diverged.
void check_logits(const std::vector<float>& logits) {
  if (logits.empty()) throw KernelError("sampling: empty logits");
  for (size_t i = 0; i < logits.size(); ++i)
    if (std::isnan(logits[i])) throw KernelError("sampling: logit " + std::to_string(i) + " is NaN");
}

}  // namespace

// Two passes instead of one compare-and-branch chain: the largest value over 8 independent lanes
// (a loop the compiler vectorizes, NaN check included), then the first index holding it.
int32_t sample_greedy(const std::vector<float>& logits) {
  if (logits.empty()) throw KernelError("sampling: empty logits");
  const float* x = logits.data();
  const size_t n = logits.size();
  float lane_max[8];
  std::fill(lane_max, lane_max + 8, -INFINITY);
  bool any_nan = false;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int k = 0; k < 8; ++k) {
      const float v = x[i + k];
      any_nan |= v != v;
      lane_max[k] = v > lane_max[k] ? v : lane_max[k];
    }
  }
  float best = *std::max_element(lane_max, lane_max + 8);
  for (; i < n; ++i) {
    any_nan |= std::isnan(x[i]);
    best = x[i] > best ? x[i] : best;
  }
  if (any_nan) check_logits(logits);  // names the first NaN
  return static_cast<int32_t>(std::find(x, x + n, best) - x);
}

int32_t sample(const std::vector<float>& logits, const SamplingParams& p, Rng& rng) {
  check_logits(logits);
  if (!(p.top_p > 0.0f && p.top_p <= 1.0f)) {
    throw KernelError("sampling: top_p = " + std::to_string(p.top_p) + " must be in (0, 1]");
  }
  if (!(p.temperature > 0.0f)) return sample_greedy(logits);
  const int64_t n = static_cast<int64_t>(logits.size());
  std::vector<int32_t> idx(static_cast<size_t>(n));
  std::iota(idx.begin(), idx.end(), 0);
  auto by_logit = [&](int32_t a, int32_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); };
  int64_t keep = n;
  if (p.top_k > 0 && p.top_k < n) {
    keep = p.top_k;
    std::partial_sort(idx.begin(), idx.begin() + keep, idx.end(), by_logit);
  } else {
    std::sort(idx.begin(), idx.end(), by_logit);
  }
  // Softmax over the kept candidates in double, largest first.
  std::vector<double> prob(static_cast<size_t>(keep));
  const double max_logit = logits[idx[0]];
  double total = 0.0;
  for (int64_t i = 0; i < keep; ++i) {
    prob[i] = std::exp((static_cast<double>(logits[idx[i]]) - max_logit) / p.temperature);
    total += prob[i];
  }
  if (p.top_p < 1.0f) {
    double cum = 0.0;
    int64_t cut = keep;
    for (int64_t i = 0; i < keep; ++i) {
      cum += prob[i] / total;
      if (cum >= p.top_p) {
        cut = i + 1;
        break;
      }
    }
    keep = cut;
    total = std::accumulate(prob.begin(), prob.begin() + keep, 0.0);
  }
  const double u = rng.next_double() * total;
  double cum = 0.0;
  for (int64_t i = 0; i < keep; ++i) {
    cum += prob[i];
    if (u < cum) return idx[i];
  }
  return idx[keep - 1];  // u rounded up to total
}

}  // namespace bitnet::kernels
