// Batches for supervised fine-tuning: one example (masked tokens, chat_template.h / jsonl.h) per
// row, never packed together, so no example attends to another.
//
//   row of an example with tokens x0..xn (n + 1 tokens), cut to its first T + 1 tokens:
//   inputs[j]  = x_j                                   for j < n, then pad_id
//   targets[j] = x_{j+1} if token j + 1 is trained     else kIgnoreIndex (also for padding)
//
// Examples with no trained target left after the cut (e.g. a prompt longer than T) are dropped
// when the batches are built; dropped() says how many. Training order: epoch_order.h.
#pragma once

#include <cstdint>
#include <vector>

#include "data/batches.h"
#include "data/chat_template.h"
#include "data/epoch_order.h"

namespace bitnet::data {

// One row (T tokens) of an example, as described above; appended to `batch`.
void append_sft_row(Batch& batch, const MaskedTokens& example, int64_t seq_len, int32_t pad_id);

class SftBatches final : public TrainStream {
 public:
  // DataError if seq_len < 1, no example has a target, or the shard arguments are bad.
  SftBatches(std::vector<MaskedTokens> examples, int64_t seq_len, int32_t pad_id, uint64_t seed, int64_t shard_rank = 0,
             int64_t shard_count = 1);

  Batch next(int64_t micro_batch) override;
  DataCursor cursor() const override { return order_.cursor(); }
  void restore(const DataCursor& cursor) override { order_.restore(cursor); }

  int64_t num_examples() const { return static_cast<int64_t>(examples_.size()); }
  int64_t dropped() const { return dropped_; }
  int64_t examples_per_epoch() const { return order_.per_rank(); }

 private:
  static std::vector<MaskedTokens> keep_trainable(std::vector<MaskedTokens> examples, int64_t seq_len,
                                                  int64_t& dropped);
  int64_t seq_len_;
  int32_t pad_id_;
  int64_t dropped_ = 0;
  std::vector<MaskedTokens> examples_;
  EpochOrder order_;
};

// Evaluation over examples in order: at most num_batches batches of micro_batch rows (the last
// may be short). Examples without targets are skipped.
std::vector<Batch> sft_eval_batches(const std::vector<MaskedTokens>& examples, int64_t seq_len, int32_t pad_id,
                                    int64_t num_batches, int64_t micro_batch);

// sft_eval_batches over a held set of examples, as an EvalStream (padded rows: the loss equals
// that of packed rows with per-document attention, so packed training evaluates the same way).
class SftEvalBatches final : public EvalStream {
 public:
  // DataError if no example has a trained target within seq_len + 1 tokens.
  SftEvalBatches(std::vector<MaskedTokens> examples, int64_t seq_len, int32_t pad_id);
  std::vector<Batch> first(int64_t num_batches, int64_t micro_batch) const override {
    return sft_eval_batches(examples_, seq_len_, pad_id_, num_batches, micro_batch);
  }

 private:
  std::vector<MaskedTokens> examples_;
  int64_t seq_len_;
  int32_t pad_id_;
};

}  // namespace bitnet::data
