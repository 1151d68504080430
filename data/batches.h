// Batches of packed windows for training and evaluation.
//
// Training order: epoch e visits the windows in a Fisher–Yates permutation drawn from
// (seed, e) with the portable PRNG of rng.h. With shard_count ranks, rank r takes positions
// r, r + count, r + 2*count, ... of that order. Every rank takes the same number of windows per
// epoch, floor(W / count); the W mod count windows at the end of each epoch's order are left out
// of that epoch (a different few each epoch). Because of that, all ranks' cursors are equal after
// the same number of next() calls, so one saved cursor restores every rank.
#pragma once

#include <cstdint>
#include <vector>

#include "data/packing.h"

namespace bitnet::data {

inline constexpr int32_t kIgnoreIndex = -100;  // target label that carries no loss

struct Batch {
  int64_t batch_size = 0, seq_len = 0;
  std::vector<int32_t> inputs;   // (B, T) row-major: window[0 .. T-1]
  std::vector<int32_t> targets;  // (B, T) row-major: window[1 .. T], kIgnoreIndex where masked
  int64_t num_targets = 0;       // targets != kIgnoreIndex
};

// Where a rank is in its stream: `position` counts this rank's windows already taken in `epoch`.
struct DataCursor {
  int64_t epoch = 0;
  int64_t position = 0;
};

class TrainBatches {
 public:
  // DataError if seq_len < 1, the corpus holds no window, shard_rank is not in [0, shard_count),
  // or there are fewer windows than ranks.
  TrainBatches(PackedTokens tokens, int64_t seq_len, uint64_t seed, int64_t shard_rank = 0,
               int64_t shard_count = 1);

  // The next micro_batch windows of this rank (crossing into the next epoch when one ends).
  Batch next(int64_t micro_batch);
  DataCursor cursor() const { return cursor_; }
  // DataError if the cursor's position is outside [0, windows_per_epoch()).
  void restore(const DataCursor& cursor);

  int64_t num_windows() const { return num_windows_; }           // W, all ranks together
  int64_t windows_per_epoch() const { return per_rank_; }        // this rank's share per epoch
  int64_t seq_len() const { return seq_len_; }
  // Window index this rank reads at `position` of `epoch` (the order above; for tests and tools).
  int64_t window_at(int64_t epoch, int64_t position);

 private:
  const std::vector<int64_t>& order_for(int64_t epoch);

  PackedTokens tokens_;
  int64_t seq_len_;
  uint64_t seed_;
  int64_t rank_, count_;
  int64_t num_windows_ = 0, per_rank_ = 0;
  DataCursor cursor_;
  int64_t cached_epoch_ = -1;
  std::vector<int64_t> cached_order_;
};

class EvalBatches {
 public:
  // DataError (naming the validation set) if it holds less than one window.
  EvalBatches(PackedTokens tokens, int64_t seq_len);
  // Windows 0, 1, 2, ... in order, micro_batch per batch, at most num_batches batches; fewer
  // when the windows run out, and the last batch may then hold fewer rows.
  std::vector<Batch> first(int64_t num_batches, int64_t micro_batch) const;
  int64_t num_windows() const { return num_windows_; }

 private:
  PackedTokens tokens_;
  int64_t seq_len_;
  int64_t num_windows_ = 0;
};

}  // namespace bitnet::data
