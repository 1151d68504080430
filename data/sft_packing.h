// Packed batches for supervised fine-tuning: several examples share one row of T positions, and
// Batch::doc_ids keeps them apart in attention (an example never sees another one).
//
//   examples in epoch order (epoch_order.h), each cut to its first T + 1 tokens (x0..xn):
//   an example takes n positions: inputs x0..x_{n-1}, targets x1..xn (kIgnoreIndex where the
//   mask says "not trained"), doc_ids = its slot in the row (0, 1, 2, ...);
//   the next example goes in the same row when its n positions still fit, else a new row starts
//   and it goes there; the rest of a row is padding (pad_id, kIgnoreIndex, doc id -1).
// The cursor counts examples taken, so a resumed run packs the same rows. Examples without a
// trained target within T + 1 tokens are dropped (as in SftBatches).
#pragma once

#include <cstdint>
#include <vector>

#include "data/batches.h"
#include "data/chat_template.h"
#include "data/epoch_order.h"

namespace bitnet::data {

class PackedSftBatches final : public TrainStream {
 public:
  // DataError if seq_len < 1, no example has a target, or the shard arguments are bad.
  PackedSftBatches(std::vector<MaskedTokens> examples, int64_t seq_len, int32_t pad_id, uint64_t seed,
                   int64_t shard_rank = 0, int64_t shard_count = 1);

  Batch next(int64_t micro_batch) override;
  DataCursor cursor() const override { return order_.cursor(); }
  void restore(const DataCursor& cursor) override { order_.restore(cursor); }

  int64_t num_examples() const { return static_cast<int64_t>(examples_.size()); }
  int64_t dropped() const { return dropped_; }

 private:
  int64_t positions_of(int64_t item) const;  // n above, at most seq_len
  int64_t peek();                            // the item take() would return next
  int64_t seq_len_;
  int32_t pad_id_;
  int64_t dropped_ = 0;
  std::vector<MaskedTokens> examples_;
  EpochOrder order_;
};

}  // namespace bitnet::data
