// A small, portable pseudo-random generator (SplitMix64) and the shuffles built on it.
// std:: distributions are implementation-defined, so a data order drawn with them would differ
// between standard libraries; everything here is specified bit for bit, so a seed gives the same
// train/val split and the same window order on every machine, which resume and multi-rank
// training depend on.
#pragma once

#include <cstdint>
#include <vector>

namespace bitnet::data {

// SplitMix64 (Steele, Lea, Flood 2014): state += golden gamma, then a 64-bit finalizer.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t next();
  // Uniform integer in [0, bound) by rejection (no modulo bias); bound must be > 0.
  uint64_t uniform(uint64_t bound);

 private:
  uint64_t state_;
};

// The SplitMix64 finalizer alone: a good 64-bit mixing function for deriving sub-seeds.
uint64_t mix64(uint64_t x);

// Derives an independent stream seed from a base seed, a purpose tag and an index (e.g. epoch),
// so the split and each epoch's shuffle never share a stream.
uint64_t derive_seed(uint64_t seed, uint64_t tag, uint64_t index);

// Fisher–Yates permutation of 0..n-1 drawn from `rng` (i from n-1 down to 1, j = uniform(i+1)).
std::vector<int64_t> random_permutation(int64_t n, SplitMix64& rng);

}  // namespace bitnet::data
