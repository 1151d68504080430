// Next-token sampling from logits: greedy, temperature, top-k and top-p (nucleus), driven by an
// explicit, seeded, portable PRNG object (SplitMix64) so a seed reproduces a generation anywhere.
#pragma once

#include <cstdint>
#include <vector>

namespace bitnet::kernels {

// SplitMix64 (Steele, Lea, Flood 2014): 64-bit state, same sequence on every platform.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next_u64();
  double next_double();  // uniform in [0, 1) with 53 random bits
  uint64_t state() const { return state_; }

 private:
  uint64_t state_;
};

struct SamplingParams {
  float temperature = 1.0f;  // <= 0 means greedy
  int64_t top_k = 0;         // 0 = no limit
  float top_p = 1.0f;        // keep the smallest set whose probability reaches top_p; 1 = all
};

// Index of the largest logit; ties go to the lowest index. Throws KernelError on empty or NaN logits.
int32_t sample_greedy(const std::vector<float>& logits);

// Softmax(logits / temperature) restricted by top_k then top_p (candidates sorted by probability,
// ties by index), then one draw from rng. temperature <= 0 is greedy and draws nothing. Throws
// KernelError on empty or NaN logits, or top_p outside (0, 1].
int32_t sample(const std::vector<float>& logits, const SamplingParams& params, Rng& rng);

}  // namespace bitnet::kernels
