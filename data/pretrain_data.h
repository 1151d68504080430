// Pre-training data in one call: documents → tokens → seeded train/val split by document →
// packed train and val token streams (each document followed by EOS, see packing.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/packing.h"
#include "data/split.h"
#include "data/tokenizer.h"

namespace bitnet::data {

struct PretrainData {
  PackedTokens train, val;  // val is empty when val_fraction is 0
  DocumentSplit split;      // which documents went where
};

// Documents are encoded as ordinary text (special-token strings in them stay text).
PretrainData prepare_pretraining(const std::vector<std::string>& documents, const Tokenizer& tokenizer,
                                 double val_fraction, uint64_t seed);

}  // namespace bitnet::data
