// Train and eval batch iteration over packed windows (see batches.h for the order).
#include "data/batches.h"

#include <algorithm>
#include <string>
#include <utility>

#include "data/error.h"
#include "data/rng.h"

namespace bitnet::data {

namespace {

constexpr uint64_t kShuffleTag = 0x73687566666c65ULL;  // "shuffle"

void check_micro_batch(int64_t micro_batch) {
  if (micro_batch < 1) {
    throw DataError("micro_batch must be at least 1, got " + std::to_string(micro_batch));
  }
}

Batch make_batch(int64_t rows, int64_t seq_len) {
  Batch b;
  b.batch_size = rows;
  b.seq_len = seq_len;
  b.inputs.reserve(static_cast<size_t>(rows * seq_len));
  b.targets.reserve(static_cast<size_t>(rows * seq_len));
  return b;
}

void append_window(Batch& b, const int32_t* w, int64_t seq_len) {
  b.inputs.insert(b.inputs.end(), w, w + seq_len);
  b.targets.insert(b.targets.end(), w + 1, w + 1 + seq_len);
  b.num_targets += seq_len;  // pre-training masks nothing
}

}  // namespace

TrainBatches::TrainBatches(PackedTokens tokens, int64_t seq_len, uint64_t seed,
                           int64_t shard_rank, int64_t shard_count)
    : tokens_(std::move(tokens)), seq_len_(seq_len), seed_(seed), rank_(shard_rank),
      count_(shard_count) {
  if (count_ < 1 || rank_ < 0 || rank_ >= count_) {
    throw DataError("shard rank " + std::to_string(rank_) + " is not in [0, " +
                    std::to_string(count_) + ")");
  }
  num_windows_ = tokens_.num_windows(seq_len_);
  per_rank_ = num_windows_ / count_;
  if (per_rank_ == 0) {
    throw DataError("the training set has " + std::to_string(num_windows_) + " windows of " +
                    std::to_string(seq_len_ + 1) + " tokens but " + std::to_string(count_) +
                    " ranks need at least one each: add text or lower seq_len");
  }
}

const std::vector<int64_t>& TrainBatches::order_for(int64_t epoch) {
  if (epoch != cached_epoch_) {
    SplitMix64 rng(derive_seed(seed_, kShuffleTag, static_cast<uint64_t>(epoch)));
    cached_order_ = random_permutation(num_windows_, rng);
    cached_epoch_ = epoch;
  }
  return cached_order_;
}

int64_t TrainBatches::window_at(int64_t epoch, int64_t position) {
  if (epoch < 0 || position < 0 || position >= per_rank_) {
    throw DataError("data cursor (epoch " + std::to_string(epoch) + ", position " +
                    std::to_string(position) + ") is outside [0, " + std::to_string(per_rank_) +
                    ") windows per epoch");
  }
  return order_for(epoch)[static_cast<size_t>(position * count_ + rank_)];
}

Batch TrainBatches::next(int64_t micro_batch) {
  check_micro_batch(micro_batch);
  Batch b = make_batch(micro_batch, seq_len_);
  for (int64_t i = 0; i < micro_batch; ++i) {
    const int64_t k = window_at(cursor_.epoch, cursor_.position);
    append_window(b, tokens_.tokens().data() + k * seq_len_, seq_len_);
    if (++cursor_.position == per_rank_) {
      cursor_.position = 0;
      ++cursor_.epoch;
    }
  }
  return b;
}

void TrainBatches::restore(const DataCursor& cursor) {
  if (cursor.epoch < 0 || cursor.position < 0 || cursor.position >= per_rank_) {
    throw DataError("cannot restore data cursor (epoch " + std::to_string(cursor.epoch) +
                    ", position " + std::to_string(cursor.position) + "): this data has " +
                    std::to_string(per_rank_) +
                    " windows per epoch per rank; was the data, seq_len or rank count changed?");
  }
  cursor_ = cursor;
}

EvalBatches::EvalBatches(PackedTokens tokens, int64_t seq_len)
    : tokens_(std::move(tokens)), seq_len_(seq_len) {
  try {
    num_windows_ = tokens_.num_windows(seq_len_);
  } catch (const DataError& e) {
    throw DataError(std::string("validation set: ") + e.what());
  }
}

std::vector<Batch> EvalBatches::first(int64_t num_batches, int64_t micro_batch) const {
  check_micro_batch(micro_batch);
  std::vector<Batch> batches;
  int64_t k = 0;
  for (int64_t n = 0; n < num_batches && k < num_windows_; ++n) {
    const int64_t rows = std::min(micro_batch, num_windows_ - k);
    Batch b = make_batch(rows, seq_len_);
    for (int64_t r = 0; r < rows; ++r, ++k) {
      append_window(b, tokens_.tokens().data() + k * seq_len_, seq_len_);
    }
    batches.push_back(std::move(b));
  }
  return batches;
}

}  // namespace bitnet::data
