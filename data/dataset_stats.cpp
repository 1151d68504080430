// Dataset statistics (see dataset_stats.h).
#include "data/dataset_stats.h"

#include <algorithm>
#include <string>

#include "data/error.h"

namespace bitnet::data {

DatasetStats dataset_stats(const TokenDataset& dataset, int64_t seq_len) {
  if (seq_len < 1) throw DataError("seq_len must be at least 1, got " + std::to_string(seq_len));
  DatasetStats s;
  int64_t row_used = 0;  // positions taken in the current packed row
  for (const MaskedTokens& m : dataset.items) {
    const auto n = static_cast<int64_t>(m.tokens.size());
    ++s.documents;
    s.tokens += n;
    s.longest = std::max(s.longest, n);
    if (n > seq_len + 1) ++s.truncated;
    int64_t trained = 0, within = 0;
    for (int64_t j = 0; j < n; ++j) {
      trained += m.trained[j];
      if (j >= 1 && j <= seq_len) within += m.trained[j];
    }
    s.trained_tokens += trained;
    if (!dataset.masked) continue;
    if (within == 0) {
      ++s.untrainable;
      continue;
    }
    const int64_t positions = std::min(n - 1, seq_len);
    s.used_positions += positions;
    ++s.pad_rows;
    if (s.pack_rows == 0 || row_used + positions > seq_len) {
      ++s.pack_rows;
      row_used = 0;
    }
    row_used += positions;
  }
  s.masked_fraction = s.tokens > 0 ? 1.0 - double(s.trained_tokens) / double(s.tokens) : 0.0;
  return s;
}

}  // namespace bitnet::data
