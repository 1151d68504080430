// Masked, padded rows for fine-tuning (see sft_batches.h).
#include "data/sft_batches.h"

#include <algorithm>
#include <string>
#include <utility>

#include "data/error.h"

namespace bitnet::data {

namespace {

void check_sizes(int64_t seq_len, int64_t micro_batch) {
  if (seq_len < 1) throw DataError("seq_len must be at least 1, got " + std::to_string(seq_len));
  if (micro_batch < 1) {
    throw DataError("micro_batch must be at least 1, got " + std::to_string(micro_batch));
  }
}

// Trained targets of an example within its first seq_len + 1 tokens.
int64_t targets_within(const MaskedTokens& ex, int64_t seq_len) {
  const auto n = std::min<int64_t>(static_cast<int64_t>(ex.tokens.size()), seq_len + 1);
  int64_t count = 0;
  for (int64_t j = 1; j < n; ++j) count += ex.trained[j];
  return count;
}

}  // namespace

void append_sft_row(Batch& batch, const MaskedTokens& example, int64_t seq_len, int32_t pad_id) {
  const auto n = static_cast<int64_t>(example.tokens.size());
  for (int64_t j = 0; j < seq_len; ++j) {
    const bool real = j + 1 < n;  // the last token is only a target, never an input
    batch.inputs.push_back(real ? example.tokens[j] : pad_id);
    const bool target = real && example.trained[j + 1];
    batch.targets.push_back(target ? example.tokens[j + 1] : kIgnoreIndex);
    batch.num_targets += target ? 1 : 0;
  }
  ++batch.batch_size;
  batch.seq_len = seq_len;
}

std::vector<MaskedTokens> SftBatches::keep_trainable(std::vector<MaskedTokens> examples, int64_t seq_len,
                                                     int64_t& dropped) {
  check_sizes(seq_len, 1);
  std::vector<MaskedTokens> kept;
  for (MaskedTokens& ex : examples) {
    if (ex.trained.size() != ex.tokens.size()) {
      throw DataError("an example's mask has " + std::to_string(ex.trained.size()) + " entries for " +
                      std::to_string(ex.tokens.size()) + " tokens");
    }
    if (targets_within(ex, seq_len) > 0) {
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

SftBatches::SftBatches(std::vector<MaskedTokens> examples, int64_t seq_len, int32_t pad_id, uint64_t seed,
                       int64_t shard_rank, int64_t shard_count)
    : seq_len_(seq_len),
      pad_id_(pad_id),
      examples_(keep_trainable(std::move(examples), seq_len, dropped_)),
      order_(static_cast<int64_t>(examples_.size()), seed, shard_rank, shard_count, "examples") {}

Batch SftBatches::next(int64_t micro_batch) {
  check_sizes(seq_len_, micro_batch);
  Batch b;
  b.seq_len = seq_len_;
  for (int64_t i = 0; i < micro_batch; ++i) {
    append_sft_row(b, examples_[static_cast<size_t>(order_.take())], seq_len_, pad_id_);
  }
  return b;
}

std::vector<Batch> sft_eval_batches(const std::vector<MaskedTokens>& examples, int64_t seq_len, int32_t pad_id,
                                    int64_t num_batches, int64_t micro_batch) {
  check_sizes(seq_len, micro_batch);
  std::vector<Batch> batches;
  Batch current;
  for (const MaskedTokens& ex : examples) {
    if (static_cast<int64_t>(batches.size()) >= num_batches) break;
    if (targets_within(ex, seq_len) == 0) continue;
    append_sft_row(current, ex, seq_len, pad_id);
    if (current.batch_size == micro_batch) {
      batches.push_back(std::move(current));
      current = Batch();
    }
  }
  if (current.batch_size > 0 && static_cast<int64_t>(batches.size()) < num_batches) {
    batches.push_back(std::move(current));
  }
  return batches;
}

SftEvalBatches::SftEvalBatches(std::vector<MaskedTokens> examples, int64_t seq_len, int32_t pad_id)
    : examples_(std::move(examples)), seq_len_(seq_len), pad_id_(pad_id) {
  check_sizes(seq_len, 1);
  for (const MaskedTokens& ex : examples_) {
    if (targets_within(ex, seq_len) > 0) return;
  }
  throw DataError("validation set: none of its " + std::to_string(examples_.size()) +
                  " examples has a trained token within seq_len + 1 = " + std::to_string(seq_len + 1) + " tokens");
}

}  // namespace bitnet::data
