// Seeded, sharded epoch order (see epoch_order.h).
#include "data/epoch_order.h"

#include "data/error.h"
#include "data/rng.h"

namespace bitnet::data {

namespace {
constexpr uint64_t kShuffleTag = 0x73687566666c65ULL;  // "shuffle"
}

EpochOrder::EpochOrder(int64_t num_items, uint64_t seed, int64_t shard_rank, int64_t shard_count,
                       const std::string& what)
    : num_items_(num_items), seed_(seed), rank_(shard_rank), count_(shard_count), what_(what) {
  if (count_ < 1 || rank_ < 0 || rank_ >= count_) {
    throw DataError("shard rank " + std::to_string(rank_) + " is not in [0, " + std::to_string(count_) + ")");
  }
  per_rank_ = num_items_ / count_;
  if (per_rank_ == 0) {
    throw DataError("the training set has " + std::to_string(num_items_) + " " + what_ + " but " +
                    std::to_string(count_) + " ranks need at least one each");
  }
}

int64_t EpochOrder::item_at(int64_t epoch, int64_t position) {
  if (epoch < 0 || position < 0 || position >= per_rank_) {
    throw DataError("data cursor (epoch " + std::to_string(epoch) + ", position " + std::to_string(position) +
                    ") is outside [0, " + std::to_string(per_rank_) + ") " + what_ + " per epoch");
  }
  if (epoch != cached_epoch_) {
    SplitMix64 rng(derive_seed(seed_, kShuffleTag, static_cast<uint64_t>(epoch)));
    cached_order_ = random_permutation(num_items_, rng);
    cached_epoch_ = epoch;
  }
  return cached_order_[static_cast<size_t>(position * count_ + rank_)];
}

int64_t EpochOrder::take() {
  const int64_t item = item_at(cursor_.epoch, cursor_.position);
  if (++cursor_.position == per_rank_) {
    cursor_.position = 0;
    ++cursor_.epoch;
  }
  return item;
}

void EpochOrder::restore(const DataCursor& cursor) {
  if (cursor.epoch < 0 || cursor.position < 0 || cursor.position >= per_rank_) {
    throw DataError("cannot restore data cursor (epoch " + std::to_string(cursor.epoch) + ", position " +
                    std::to_string(cursor.position) + "): this data has " + std::to_string(per_rank_) + " " + what_ +
                    " per epoch per rank; was the data, seq_len or rank count changed?");
  }
  cursor_ = cursor;
}

}  // namespace bitnet::data
