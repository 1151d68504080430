// Fine-tuning rows worked out by hand (shift, mask, padding, cut at seq_len + 1), dropping
// examples with nothing to train, cursor restore and shard coverage.
#include <gtest/gtest.h>

#include <set>

#include "data/error.h"
#include "data/sft_batches.h"

namespace bitnet::data {
namespace {

using Ids = std::vector<int32_t>;
constexpr int32_t I = kIgnoreIndex;

MaskedTokens example(Ids tokens, std::vector<uint8_t> trained) {
  return MaskedTokens{std::move(tokens), std::move(trained)};
}

TEST(SftRow, ShiftMaskAndPadByHand) {
  const MaskedTokens ex = example({10, 11, 12, 13, 14}, {0, 0, 1, 1, 1});
  Batch b;
  append_sft_row(b, ex, 6, 0);
  EXPECT_EQ(b.inputs, (Ids{10, 11, 12, 13, 0, 0}));
  EXPECT_EQ(b.targets, (Ids{I, 12, 13, 14, I, I}));
  EXPECT_EQ(b.num_targets, 3);
  append_sft_row(b, ex, 2, 0);  // cut to the first 3 tokens
  EXPECT_EQ(b.batch_size, 2);
  EXPECT_EQ(Ids(b.inputs.begin() + 6, b.inputs.end()), (Ids{10, 11}));
  EXPECT_EQ(Ids(b.targets.begin() + 6, b.targets.end()), (Ids{I, 12}));
  EXPECT_EQ(b.num_targets, 4);
}

// Example k: tokens {k, k, 1000 + k} with the last trained, so a row's first input names it.
std::vector<MaskedTokens> numbered(int n) {
  std::vector<MaskedTokens> out;
  for (int k = 0; k < n; ++k) out.push_back(example({k, k, 1000 + k}, {0, 0, 1}));
  return out;
}

std::vector<int32_t> firsts(const Batch& b) {
  std::vector<int32_t> out;
  for (int64_t r = 0; r < b.batch_size; ++r) out.push_back(b.inputs[r * b.seq_len]);
  return out;
}

TEST(SftBatches, DropsExamplesWithoutTargetsWithinSeqLen) {
  std::vector<MaskedTokens> ex = numbered(3);
  ex.push_back(example({7, 7, 7, 7, 8}, {0, 0, 0, 0, 1}));  // target at token 4: cut at T = 2
  SftBatches sb(ex, 2, 0, 1);
  EXPECT_EQ(sb.num_examples(), 3);
  EXPECT_EQ(sb.dropped(), 1);
  EXPECT_THROW(SftBatches({example({1, 2}, {0, 0})}, 4, 0, 1), DataError);
  EXPECT_THROW(SftBatches({example({1, 2}, {0})}, 4, 0, 1), DataError);  // mask size
}

TEST(SftBatches, EpochsVisitEveryExampleAndRestoreContinues) {
  SftBatches full(numbered(10), 4, 0, 3);
  std::vector<Batch> reference;
  for (int i = 0; i < 12; ++i) reference.push_back(full.next(3));
  std::multiset<int32_t> epoch0;
  for (int i = 0; i < 3; ++i)
    for (int32_t k : firsts(reference[i])) epoch0.insert(k);
  for (int32_t k : firsts(reference[3])) {  // positions 9, then epoch 1's first two
    epoch0.insert(k);
    break;
  }
  EXPECT_EQ(epoch0, (std::multiset<int32_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(reference[0].targets[0], I);
  EXPECT_EQ(reference[0].targets[1], 1000 + reference[0].inputs[0]);
  for (int cut : {0, 3, 7}) {
    SftBatches first(numbered(10), 4, 0, 3);
    for (int i = 0; i < cut; ++i) first.next(3);
    SftBatches resumed(numbered(10), 4, 0, 3);
    resumed.restore(first.cursor());
    for (int i = cut; i < 12; ++i) {
      const Batch b = resumed.next(3);
      EXPECT_EQ(b.inputs, reference[i].inputs) << "cut " << cut << " batch " << i;
      EXPECT_EQ(b.targets, reference[i].targets) << "cut " << cut << " batch " << i;
    }
  }
}

TEST(SftBatches, TwoShardsCoverOneShardsEpoch) {
  SftBatches one(numbered(8), 4, 0, 5), r0(numbered(8), 4, 0, 5, 0, 2), r1(numbered(8), 4, 0, 5, 1, 2);
  for (int epoch = 0; epoch < 2; ++epoch) {
    const std::vector<int32_t> all = firsts(one.next(8));
    const std::vector<int32_t> a = firsts(r0.next(4)), b = firsts(r1.next(4));
    for (int i = 0; i < 4; ++i) {
      EXPECT_EQ(a[i], all[2 * i]);
      EXPECT_EQ(b[i], all[2 * i + 1]);
    }
  }
}

TEST(SftEval, InOrderWithAShortLastBatch) {
  std::vector<MaskedTokens> ex = numbered(5);
  ex.insert(ex.begin() + 1, example({9, 9}, {0, 0}));  // nothing to train: skipped
  const std::vector<Batch> bs = sft_eval_batches(ex, 3, 0, 10, 2);
  ASSERT_EQ(bs.size(), 3u);
  EXPECT_EQ(firsts(bs[0]), (Ids{0, 1}));
  EXPECT_EQ(firsts(bs[2]), (Ids{4}));
  EXPECT_EQ(bs[0].inputs, (Ids{0, 0, 0, 1, 1, 0}));
  EXPECT_EQ(bs[0].targets, (Ids{I, 1000, I, I, 1001, I}));
  EXPECT_EQ(sft_eval_batches(ex, 3, 0, 1, 2).size(), 1u);
}

}  // namespace
}  // namespace bitnet::data
