// Seeded document split: permute, take the head for validation, sort both halves.
#include "data/split.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "data/error.h"
#include "data/rng.h"

namespace bitnet::data {

namespace {
constexpr uint64_t kSplitTag = 0x73706c6974ULL;  // "split": keeps this stream apart from shuffles
}

DocumentSplit split_documents(int64_t num_docs, double val_fraction, uint64_t seed) {
  if (num_docs < 0) throw DataError("split: number of documents is negative (" + std::to_string(num_docs) + ")");
  if (!(val_fraction >= 0.0 && val_fraction < 1.0)) {
    throw DataError("split: val_fraction must be in [0, 1), got " + std::to_string(val_fraction));
  }
  auto num_val = static_cast<int64_t>(std::llround(static_cast<double>(num_docs) * val_fraction));
  if (val_fraction > 0.0 && num_docs >= 2) num_val = std::max<int64_t>(num_val, 1);
  num_val = std::min<int64_t>(num_val, std::max<int64_t>(num_docs - 1, 0));

  SplitMix64 rng(derive_seed(seed, kSplitTag, 0));
  const std::vector<int64_t> order = random_permutation(num_docs, rng);
  DocumentSplit split;
  split.val.assign(order.begin(), order.begin() + num_val);
  split.train.assign(order.begin() + num_val, order.end());
  std::sort(split.val.begin(), split.val.end());
  std::sort(split.train.begin(), split.train.end());
  return split;
}

}  // namespace bitnet::data
