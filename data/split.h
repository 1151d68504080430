// Train/validation split by document, deterministic from a seed (portable PRNG, see rng.h).
#pragma once

#include <cstdint>
#include <vector>

namespace bitnet::data {

struct DocumentSplit {
  std::vector<int64_t> train, val;  // document indices, each sorted ascending
};

// The validation set takes round(num_docs * val_fraction) documents (half away from zero), at
// least 1 when val_fraction > 0 and num_docs >= 2, and at most num_docs - 1 so training always
// keeps a document; which ones is the first part of a seeded Fisher–Yates permutation.
// val_fraction must be in [0, 1) and num_docs >= 0 (DataError otherwise).
DocumentSplit split_documents(int64_t num_docs, double val_fraction, uint64_t seed);

}  // namespace bitnet::data
