// Packed fine-tuning rows: hand-worked rows (positions, masks, document ids, padding), resume
// from a cursor reproduces the same rows, and the statistics' row counts match what the packer
// produces for one epoch.
#include <gtest/gtest.h>

#include <set>

#include "data/dataset_stats.h"
#include "data/error.h"
#include "data/sft_packing.h"

namespace bitnet::data {
namespace {

MaskedTokens example(std::vector<int32_t> tokens, std::vector<uint8_t> trained) {
  return MaskedTokens{std::move(tokens), std::move(trained)};
}

// Example k (k = 0..n-1) has k + 2 tokens 100k, 100k+1, ...; only its last token is trained.
std::vector<MaskedTokens> ladder(int n) {
  std::vector<MaskedTokens> out;
  for (int k = 0; k < n; ++k) {
    MaskedTokens m;
    for (int j = 0; j < k + 2; ++j) m.append(100 * k + j, j == k + 1);
    out.push_back(m);
  }
  return out;
}

TEST(SftPacking, OneRowByHand) {
  // T = 6. a: 3 tokens (2 positions), b: 4 tokens (3 positions) fit together (5 <= 6);
  // the 6th position is padding. One epoch order over 2 items: whichever comes first.
  std::vector<MaskedTokens> ex = {example({1, 2, 3}, {0, 1, 1}), example({4, 5, 6, 7}, {0, 0, 1, 1})};
  PackedSftBatches b(ex, 6, /*pad=*/0, /*seed=*/3);
  const Batch batch = b.next(1);
  ASSERT_EQ(batch.inputs.size(), 6u);
  const bool a_first = batch.inputs[0] == 1;
  const std::vector<int32_t> in_a = {1, 2}, tg_a = {2, 3}, in_b = {4, 5, 6}, tg_b = {kIgnoreIndex, 6, 7};
  std::vector<int32_t> inputs, targets, docs;
  auto put = [&](const std::vector<int32_t>& in, const std::vector<int32_t>& tg, int32_t doc) {
    inputs.insert(inputs.end(), in.begin(), in.end());
    targets.insert(targets.end(), tg.begin(), tg.end());
    docs.insert(docs.end(), in.size(), doc);
  };
  if (a_first) {
    put(in_a, tg_a, 0);
    put(in_b, tg_b, 1);
  } else {
    put(in_b, tg_b, 0);
    put(in_a, tg_a, 1);
  }
  put({0}, {kIgnoreIndex}, -1);
  EXPECT_EQ(batch.inputs, inputs);
  EXPECT_EQ(batch.targets, targets);
  EXPECT_EQ(batch.doc_ids, docs);
  EXPECT_EQ(batch.num_targets, 4);  // 2 of a, 2 of b
}

TEST(SftPacking, LongExampleIsCutAndStartsItsOwnRow) {
  // T = 3: the 6-token example keeps tokens 0..3 (3 positions) and fills a row alone.
  std::vector<MaskedTokens> ex = {example({1, 2, 3, 4, 5, 6}, {0, 1, 1, 1, 1, 1})};
  PackedSftBatches b(ex, 3, 0, 1);
  const Batch batch = b.next(2);
  EXPECT_EQ(batch.inputs, (std::vector<int32_t>{1, 2, 3, 1, 2, 3}));  // the next epoch repeats it
  EXPECT_EQ(batch.targets, (std::vector<int32_t>{2, 3, 4, 2, 3, 4}));
  EXPECT_EQ(batch.doc_ids, (std::vector<int32_t>{0, 0, 0, 0, 0, 0}));
}

TEST(SftPacking, EveryTrainedTokenOfAnEpochAppearsOnceAndResumeRepeatsRows) {
  const std::vector<MaskedTokens> ex = ladder(7);  // 2..8 tokens, 1..7 positions
  PackedSftBatches a(ex, 8, 0, 11);
  // Collect trained targets until the cursor reaches the next epoch.
  std::multiset<int32_t> seen;
  while (a.cursor().epoch == 0) {
    const Batch b = a.next(1);
    for (int32_t t : b.targets)
      if (t != kIgnoreIndex) seen.insert(t);
  }
  // The last row may already hold the first examples of epoch 1 (cursor.position of them).
  ASSERT_EQ(a.cursor().epoch, 1);
  EXPECT_EQ(static_cast<int64_t>(seen.size()), 7 + a.cursor().position);
  for (int k = 0; k < 7; ++k) EXPECT_GE(seen.count(100 * k + k + 1), 1u) << "example " << k;

  PackedSftBatches x(ex, 8, 0, 11), y(ex, 8, 0, 11);
  x.next(2);
  const DataCursor c = x.cursor();
  const Batch bx = x.next(3);
  y.restore(c);
  const Batch by = y.next(3);
  EXPECT_EQ(bx.inputs, by.inputs);
  EXPECT_EQ(bx.targets, by.targets);
  EXPECT_EQ(bx.doc_ids, by.doc_ids);
}

TEST(SftPacking, DropsExamplesWithoutTargets) {
  std::vector<MaskedTokens> ex = {example({1, 2}, {1, 0}), example({3, 4}, {0, 1})};
  PackedSftBatches b(ex, 4, 0, 1);
  EXPECT_EQ(b.num_examples(), 1);
  EXPECT_EQ(b.dropped(), 1);
  EXPECT_THROW(PackedSftBatches({example({1, 2}, {1, 0})}, 4, 0, 1), DataError);
}

TEST(DatasetStats, HandCountedFineTuningSet) {
  TokenDataset ds;
  ds.masked = true;
  // T = 4. Positions: 2, 3, 4 (cut from 6 tokens), 1; the last has no trained target.
  ds.items = {example({1, 2, 3}, {0, 1, 1}), example({1, 2, 3, 4}, {0, 0, 1, 1}),
              example({1, 2, 3, 4, 5, 6}, {0, 1, 1, 1, 1, 1}), example({1, 2}, {1, 0})};
  const DatasetStats s = dataset_stats(ds, 4);
  EXPECT_EQ(s.documents, 4);
  EXPECT_EQ(s.tokens, 15);
  EXPECT_EQ(s.longest, 6);
  EXPECT_EQ(s.truncated, 1);
  EXPECT_EQ(s.untrainable, 1);
  EXPECT_EQ(s.trained_tokens, 2 + 2 + 5 + 1);
  EXPECT_DOUBLE_EQ(s.masked_fraction, 1.0 - 10.0 / 15.0);
  EXPECT_EQ(s.used_positions, 2 + 3 + 4);
  EXPECT_EQ(s.pad_rows, 3);
  EXPECT_EQ(s.pack_rows, 3);  // [2] then 3 does not fit (5 > 4), [3], [4]
  EXPECT_DOUBLE_EQ(s.wasted_fraction(s.pad_rows, 4), 1.0 - 9.0 / 12.0);
  ds.items = {example({1, 2}, {0, 1}), example({1, 2}, {0, 1}), example({1, 2, 3}, {0, 1, 1})};
  const DatasetStats t = dataset_stats(ds, 4);
  EXPECT_EQ(t.pad_rows, 3);
  EXPECT_EQ(t.pack_rows, 1);  // 1 + 1 + 2 = 4 positions
  EXPECT_DOUBLE_EQ(t.wasted_fraction(t.pack_rows, 4), 0.0);
}

}  // namespace
}  // namespace bitnet::data
