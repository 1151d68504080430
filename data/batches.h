// Batches of packed windows for training and evaluation.
//
// Training order: the windows in the seeded, sharded epoch order of epoch_order.h (a new
// permutation each epoch; rank r of `count` takes positions r, r + count, ...; each rank takes
// floor(W / count) windows per epoch, so one saved cursor restores every rank).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "data/epoch_order.h"
#include "data/packing.h"

namespace bitnet::data {

inline constexpr int32_t kIgnoreIndex = -100;  // target label that carries no loss

struct Batch {
  int64_t batch_size = 0, seq_len = 0;
  std::vector<int32_t> inputs;   // (B, T) row-major: window[0 .. T-1]
  std::vector<int32_t> targets;  // (B, T) row-major: window[1 .. T], kIgnoreIndex where masked
  int64_t num_targets = 0;       // targets != kIgnoreIndex
  // (B, T) row-major document id of each input position, or empty. When set, position i attends
  // to position j only if j <= i and doc_ids[i] == doc_ids[j] (packed fine-tuning examples do
  // not see each other); empty means every row is one causal sequence.
  std::vector<int32_t> doc_ids;
};

// What the training loop draws from: the next micro-batch of this rank, and the cursor that a
// checkpoint saves and a resume restores. Implementations: TrainBatches (packed pre-training
// windows), SftBatches (one padded example per row), PackedSftBatches (sft_packing.h).
class TrainStream {
 public:
  virtual ~TrainStream() = default;
  virtual Batch next(int64_t micro_batch) = 0;
  virtual DataCursor cursor() const = 0;
  virtual void restore(const DataCursor& cursor) = 0;
};

// Evaluation batches in a fixed order: at most num_batches of micro_batch rows.
class EvalStream {
 public:
  virtual ~EvalStream() = default;
  virtual std::vector<Batch> first(int64_t num_batches, int64_t micro_batch) const = 0;
};

class TrainBatches final : public TrainStream {
 public:
  // DataError if seq_len < 1, the corpus holds no window, shard_rank is not in [0, shard_count),
  // or there are fewer windows than ranks. The stream is in memory or read from shards as
  // windows need it (shard_stream.h); the windows and their order are the same.
  TrainBatches(std::shared_ptr<const PackedStream> tokens, int64_t seq_len, uint64_t seed, int64_t shard_rank = 0,
               int64_t shard_count = 1);
  TrainBatches(PackedTokens tokens, int64_t seq_len, uint64_t seed, int64_t shard_rank = 0, int64_t shard_count = 1);

  // The next micro_batch windows of this rank (crossing into the next epoch when one ends).
  Batch next(int64_t micro_batch) override;
  DataCursor cursor() const override { return order_.cursor(); }
  // DataError if the cursor's position is outside [0, windows_per_epoch()).
  void restore(const DataCursor& cursor) override;

  int64_t num_windows() const { return order_.num_items(); }       // W, all ranks together
  int64_t windows_per_epoch() const { return order_.per_rank(); }  // this rank's share
  int64_t seq_len() const { return seq_len_; }
  // Window index this rank reads at `position` of `epoch` (the order above; for tests and tools).
  int64_t window_at(int64_t epoch, int64_t position) { return order_.item_at(epoch, position); }

 private:
  std::shared_ptr<const PackedStream> tokens_;
  int64_t seq_len_;
  EpochOrder order_;
  std::vector<int32_t> window_;  // seq_len + 1 tokens
};

class EvalBatches final : public EvalStream {
 public:
  // DataError (naming the validation set) if it holds less than one window.
  EvalBatches(std::shared_ptr<const PackedStream> tokens, int64_t seq_len);
  EvalBatches(PackedTokens tokens, int64_t seq_len);
  // Windows 0, 1, 2, ... in order, micro_batch per batch, at most num_batches batches; fewer
  // when the windows run out, and the last batch may then hold fewer rows.
  std::vector<Batch> first(int64_t num_batches, int64_t micro_batch) const override;
  int64_t num_windows() const { return num_windows_; }

 private:
  std::shared_ptr<const PackedStream> tokens_;
  int64_t seq_len_;
  int64_t num_windows_ = 0;
};

}  // namespace bitnet::data
