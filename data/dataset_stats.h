// Statistics of a token dataset for `bitnet data check` and for choosing data.sft_layout.
//   documents  items (documents or examples)          tokens   their tokens (no added EOS)
//   longest    tokens of the longest item             truncated items longer than seq_len + 1
//              (fine-tuning rows keep the first seq_len + 1 tokens; text is packed, nothing cut)
//   masked_fraction   tokens not trained / tokens (0 for text documents)
//   untrainable       examples with no trained token within seq_len + 1 (dropped in training)
//   pad_rows, pack_rows   rows of seq_len positions one epoch takes with data.sft_layout pad /
//                     pack (packing in the given order, as sft_packing.h does it)
//   used_positions    positions holding an example token (the same for both layouts), so the
//                     wasted fraction of a layout is 1 - used_positions / (rows * seq_len).
#pragma once

#include <cstdint>

#include "data/token_dataset.h"

namespace bitnet::data {

struct DatasetStats {
  int64_t documents = 0, tokens = 0, longest = 0, truncated = 0;
  int64_t trained_tokens = 0, untrainable = 0;
  double masked_fraction = 0;
  int64_t pad_rows = 0, pack_rows = 0, used_positions = 0;
  double wasted_fraction(int64_t rows, int64_t seq_len) const {
    return rows > 0 ? 1.0 - double(used_positions) / (double(rows) * double(seq_len)) : 0.0;
  }
};

// DataError if seq_len < 1.
DatasetStats dataset_stats(const TokenDataset& dataset, int64_t seq_len);

}  // namespace bitnet::data
