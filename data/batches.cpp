// Train and eval batch iteration over packed windows (see batches.h for the order).
#include "data/batches.h"

#include <algorithm>
#include <string>
#include <utility>

#include "data/error.h"

namespace bitnet::data {

namespace {

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

TrainBatches::TrainBatches(std::shared_ptr<const PackedStream> tokens, int64_t seq_len, uint64_t seed,
                           int64_t shard_rank, int64_t shard_count)
    : tokens_(std::move(tokens)),
      seq_len_(seq_len),
      order_(tokens_->num_windows(seq_len), seed, shard_rank, shard_count,
             "windows of " + std::to_string(seq_len + 1) + " tokens"),
      window_(static_cast<size_t>(seq_len + 1)) {}

TrainBatches::TrainBatches(PackedTokens tokens, int64_t seq_len, uint64_t seed, int64_t shard_rank, int64_t shard_count)
    : TrainBatches(std::make_shared<const PackedTokens>(std::move(tokens)), seq_len, seed, shard_rank, shard_count) {}

Batch TrainBatches::next(int64_t micro_batch) {
  check_micro_batch(micro_batch);
  Batch b = make_batch(micro_batch, seq_len_);
  for (int64_t i = 0; i < micro_batch; ++i) {
    tokens_->read(order_.take() * seq_len_, seq_len_ + 1, window_.data());
    append_window(b, window_.data(), seq_len_);
  }
  return b;
}

void TrainBatches::restore(const DataCursor& cursor) {
  order_.restore(cursor);
}

EvalBatches::EvalBatches(std::shared_ptr<const PackedStream> tokens, int64_t seq_len)
    : tokens_(std::move(tokens)), seq_len_(seq_len) {
  try {
    num_windows_ = tokens_->num_windows(seq_len_);
  } catch (const DataError& e) {
    throw DataError(std::string("validation set: ") + e.what());
  }
}

EvalBatches::EvalBatches(PackedTokens tokens, int64_t seq_len)
    : EvalBatches(std::make_shared<const PackedTokens>(std::move(tokens)), seq_len) {}

std::vector<Batch> EvalBatches::first(int64_t num_batches, int64_t micro_batch) const {
  check_micro_batch(micro_batch);
  std::vector<Batch> batches;
  std::vector<int32_t> window(static_cast<size_t>(seq_len_ + 1));
  int64_t k = 0;
  for (int64_t n = 0; n < num_batches && k < num_windows_; ++n) {
    const int64_t rows = std::min(micro_batch, num_windows_ - k);
    Batch b = make_batch(rows, seq_len_);
    for (int64_t r = 0; r < rows; ++r, ++k) {
      tokens_->read(k * seq_len_, seq_len_ + 1, window.data());
      append_window(b, window.data(), seq_len_);
    }
    batches.push_back(std::move(b));
  }
  return batches;
}

}  // namespace bitnet::data
