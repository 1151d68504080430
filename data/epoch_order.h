// The order in which a rank visits N items (windows or examples), epoch after epoch: epoch e is a
// Fisher–Yates permutation drawn from (seed, e) with the portable PRNG of rng.h; with
// shard_count ranks, rank r takes positions r, r + count, r + 2*count, ... of it. Every rank takes
// floor(N / count) items per epoch (the N mod count items at the end of each epoch's permutation
// are left out of that epoch, a different few each time), so all ranks' cursors stay equal and
// one saved cursor restores every rank.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bitnet::data {

// Where a rank is in its stream: `position` counts this rank's items already taken in `epoch`.
struct DataCursor {
  int64_t epoch = 0;
  int64_t position = 0;
};

class EpochOrder {
 public:
  // DataError if rank is not in [0, count) or there are fewer items than ranks; `what` names the
  // items in messages ("windows", "examples").
  EpochOrder(int64_t num_items, uint64_t seed, int64_t shard_rank, int64_t shard_count, const std::string& what);

  // The item at the cursor, then the cursor moves on (into the next epoch after the last).
  int64_t take();
  // The item this rank reads at `position` of `epoch`.
  int64_t item_at(int64_t epoch, int64_t position);

  DataCursor cursor() const { return cursor_; }
  // DataError if the position is outside [0, per_rank()).
  void restore(const DataCursor& cursor);
  int64_t num_items() const { return num_items_; }
  int64_t per_rank() const { return per_rank_; }

 private:
  int64_t num_items_;
  uint64_t seed_;
  int64_t rank_, count_;
  int64_t per_rank_ = 0;
  std::string what_;
  DataCursor cursor_;
  int64_t cached_epoch_ = -1;
  std::vector<int64_t> cached_order_;
};

}  // namespace bitnet::data
