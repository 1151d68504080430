// Packing fine-tuning examples into rows with per-example document ids (see sft_packing.h).
#include "data/sft_packing.h"

#include <algorithm>
#include <string>
#include <utility>

#include "data/error.h"
#include "data/sft_batches.h"

namespace bitnet::data {
namespace {

std::vector<MaskedTokens> trainable(std::vector<MaskedTokens> examples, int64_t seq_len, int64_t& dropped) {
  if (seq_len < 1) throw DataError("seq_len must be at least 1, got " + std::to_string(seq_len));
  std::vector<MaskedTokens> kept;
  for (MaskedTokens& ex : examples) {
    if (ex.trained.size() != ex.tokens.size()) {
      throw DataError("an example's mask has " + std::to_string(ex.trained.size()) + " entries for " +
                      std::to_string(ex.tokens.size()) + " tokens");
    }
    const auto n = std::min<int64_t>(static_cast<int64_t>(ex.tokens.size()), seq_len + 1);
    int64_t targets = 0;
    for (int64_t j = 1; j < n; ++j) targets += ex.trained[j];
    if (targets > 0) {
      kept.push_back(std::move(ex));
    } else {
      ++dropped;
    }
  }
  if (kept.empty()) {
    throw DataError("none of the " + std::to_string(dropped) + " examples has a trained token " +
                    "within seq_len + 1 = " + std::to_string(seq_len + 1) +
                    " tokens: raise seq_len or shorten the prompts");
  }
  return kept;
}

}  // namespace

PackedSftBatches::PackedSftBatches(std::vector<MaskedTokens> examples, int64_t seq_len, int32_t pad_id, uint64_t seed,
                                   int64_t shard_rank, int64_t shard_count)
    : seq_len_(seq_len),
      pad_id_(pad_id),
      examples_(trainable(std::move(examples), seq_len, dropped_)),
      order_(static_cast<int64_t>(examples_.size()), seed, shard_rank, shard_count, "examples") {}

int64_t PackedSftBatches::positions_of(int64_t item) const {
  const auto size = static_cast<int64_t>(examples_[static_cast<size_t>(item)].tokens.size());
  return std::min(size - 1, seq_len_);
}

int64_t PackedSftBatches::peek() {
  DataCursor c = order_.cursor();
  if (c.position >= order_.per_rank()) c = DataCursor{c.epoch + 1, 0};
  return order_.item_at(c.epoch, c.position);
}

Batch PackedSftBatches::next(int64_t micro_batch) {
  if (micro_batch < 1) {
    throw DataError("micro_batch must be at least 1, got " + std::to_string(micro_batch));
  }
  Batch b;
  b.batch_size = micro_batch;
  b.seq_len = seq_len_;
  const auto cells = static_cast<size_t>(micro_batch * seq_len_);
  b.inputs.assign(cells, pad_id_);
  b.targets.assign(cells, kIgnoreIndex);
  b.doc_ids.assign(cells, -1);
  for (int64_t row = 0; row < micro_batch; ++row) {
    int64_t used = 0;
    for (int32_t slot = 0; used == 0 || used + positions_of(peek()) <= seq_len_; ++slot) {
      const MaskedTokens& ex = examples_[static_cast<size_t>(order_.take())];
      const int64_t n = std::min(static_cast<int64_t>(ex.tokens.size()) - 1, seq_len_);
      for (int64_t j = 0; j < n; ++j) {
        const auto at = static_cast<size_t>(row * seq_len_ + used + j);
        b.inputs[at] = ex.tokens[j];
        b.doc_ids[at] = slot;
        if (ex.trained[j + 1]) {
          b.targets[at] = ex.tokens[j + 1];
          ++b.num_targets;
        }
      }
      used += n;
      if (used >= seq_len_) break;
    }
  }
  return b;
}

}  // namespace bitnet::data
