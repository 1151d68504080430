// SplitMix64 and Fisher–Yates, written out so their output is fixed by this file alone.
#include "data/rng.h"

#include <cstddef>
#include <utility>

namespace bitnet::data {

uint64_t mix64(uint64_t x) {
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

uint64_t SplitMix64::next() {
  state_ += 0x9E3779B97F4A7C15ULL;
  return mix64(state_);
}

uint64_t SplitMix64::uniform(uint64_t bound) {
  // Values below `threshold` would make some residues more likely; (2^64 - bound) % bound of
  // them exist, so reject those and take the residue of the rest.
  const uint64_t threshold = (0 - bound) % bound;
  for (;;) {
    const uint64_t x = next();
    if (x >= threshold) return x % bound;
  }
}

uint64_t derive_seed(uint64_t seed, uint64_t tag, uint64_t index) {
  return mix64(mix64(seed ^ mix64(tag)) + index * 0x9E3779B97F4A7C15ULL);
}

std::vector<int64_t> random_permutation(int64_t n, SplitMix64& rng) {
  std::vector<int64_t> order(static_cast<std::size_t>(n > 0 ? n : 0));
  for (int64_t i = 0; i < n; ++i) order[static_cast<std::size_t>(i)] = i;
  for (int64_t i = n - 1; i >= 1; --i) {
    const auto j = static_cast<int64_t>(rng.uniform(static_cast<uint64_t>(i) + 1));
    std::swap(order[static_cast<std::size_t>(i)], order[static_cast<std::size_t>(j)]);
  }
  return order;
}

}  // namespace bitnet::data
