// Packing windows worked out by hand on a small token list; train batches: every window once
// per epoch, cursor restore equals the uninterrupted run, shards are disjoint and together cover
// the single-shard epoch; eval batches in order.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <set>

#include "data/batches.h"
#include "data/byte_tokenizer.h"
#include "data/error.h"
#include "data/packing.h"
#include "data/pretrain_data.h"

namespace bitnet::data {
namespace {

std::vector<int32_t> window_vec(const PackedTokens& p, int64_t k, int64_t t) {
  const int32_t* w = p.window(k, t);
  return std::vector<int32_t>(w, w + t + 1);
}

// Tokens 0, 1, ..., n-1 (the last one is the EOS): each window is identified by its first token.
PackedTokens distinct_tokens(int32_t n) {
  std::vector<int32_t> doc(static_cast<size_t>(n - 1));
  std::iota(doc.begin(), doc.end(), 0);
  return PackedTokens({doc}, n - 1);
}

TEST(PackedTokens, ConcatenatesWithEos) {
  const PackedTokens p({{1, 2, 3}, {4, 5}, {}}, 9);
  EXPECT_EQ(p.tokens(), (std::vector<int32_t>{1, 2, 3, 9, 4, 5, 9, 9}));
  EXPECT_EQ(p.num_documents(), 3);
}

TEST(PackedTokens, WindowsByHand) {
  const PackedTokens p({{1, 2, 3}, {4, 5}}, 9);  // 1 2 3 9 4 5 9: N = 7
  EXPECT_EQ(p.num_windows(2), 3);                // floor(6 / 2)
  EXPECT_EQ(window_vec(p, 0, 2), (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(window_vec(p, 1, 2), (std::vector<int32_t>{3, 9, 4}));
  EXPECT_EQ(window_vec(p, 2, 2), (std::vector<int32_t>{4, 5, 9}));
  EXPECT_EQ(p.num_windows(4), 1);  // floor(6 / 4): tokens 5 9 unused
  EXPECT_EQ(window_vec(p, 0, 4), (std::vector<int32_t>{1, 2, 3, 9, 4}));
  EXPECT_EQ(p.num_windows(6), 1);
  EXPECT_EQ(p.num_windows(1), 6);
  EXPECT_THROW(p.window(3, 2), DataError);
  EXPECT_THROW(p.num_windows(0), DataError);
}

TEST(PackedTokens, TooSmallCorpusSaysHowManyTokens) {
  const PackedTokens p({{1, 2, 3}, {4, 5}}, 9);
  try {
    p.num_windows(7);
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("7 tokens"), std::string::npos) << msg;
    EXPECT_NE(msg.find("8"), std::string::npos) << msg;
  }
}

TEST(TrainBatches, InputsAndTargetsAreShiftedWindows) {
  TrainBatches tb(PackedTokens({{1, 2, 3}, {4, 5}}, 9), 2, 5);
  const Batch b = tb.next(3);
  EXPECT_EQ(b.batch_size, 3);
  EXPECT_EQ(b.seq_len, 2);
  EXPECT_EQ(b.num_targets, 6);
  // Whatever the order, the rows are the three windows above, each exactly once.
  std::multiset<std::vector<int32_t>> rows;
  for (int r = 0; r < 3; ++r) {
    const int32_t* in = b.inputs.data() + r * 2;
    const int32_t* tg = b.targets.data() + r * 2;
    EXPECT_EQ(in[1], tg[0]);
    rows.insert({in[0], in[1], tg[1]});
  }
  EXPECT_EQ(rows, (std::multiset<std::vector<int32_t>>{{1, 2, 3}, {3, 9, 4}, {4, 5, 9}}));
  EXPECT_EQ(tb.cursor().epoch, 1);
  EXPECT_EQ(tb.cursor().position, 0);
}

// First input token / seq_len of every row = the window index.
std::vector<int64_t> windows_of(const Batch& b) {
  std::vector<int64_t> out;
  for (int64_t r = 0; r < b.batch_size; ++r) out.push_back(b.inputs[r * b.seq_len] / b.seq_len);
  return out;
}

TEST(TrainBatches, EachEpochIsAPermutationAndEpochsDiffer) {
  const int64_t T = 4;
  TrainBatches tb(distinct_tokens(41), T, 11);  // W = floor(40 / 4) = 10
  ASSERT_EQ(tb.num_windows(), 10);
  std::vector<int64_t> e0 = windows_of(tb.next(10)), e1 = windows_of(tb.next(10));
  EXPECT_NE(e0, e1);
  std::sort(e0.begin(), e0.end());
  std::sort(e1.begin(), e1.end());
  std::vector<int64_t> all(10);
  std::iota(all.begin(), all.end(), 0);
  EXPECT_EQ(e0, all);
  EXPECT_EQ(e1, all);
}

TEST(TrainBatches, RestoredCursorContinuesTheUninterruptedSequence) {
  const int64_t T = 3;
  std::vector<Batch> reference;
  TrainBatches full(distinct_tokens(50), T, 21);  // W = 16: next(3) crosses epochs mid-batch
  for (int i = 0; i < 20; ++i) reference.push_back(full.next(3));
  for (int cut : {0, 1, 5, 11, 19}) {
    TrainBatches first(distinct_tokens(50), T, 21);
    for (int i = 0; i < cut; ++i) first.next(3);
    const DataCursor saved = first.cursor();
    TrainBatches resumed(distinct_tokens(50), T, 21);
    resumed.restore(saved);
    for (int i = cut; i < 20; ++i) {
      const Batch b = resumed.next(3);
      EXPECT_EQ(b.inputs, reference[i].inputs) << "cut " << cut << " batch " << i;
      EXPECT_EQ(b.targets, reference[i].targets) << "cut " << cut << " batch " << i;
    }
  }
  TrainBatches tb(distinct_tokens(50), T, 21);
  EXPECT_THROW(tb.restore({0, 16}), DataError);
  EXPECT_THROW(tb.restore({-1, 0}), DataError);
}

TEST(TrainBatches, TwoShardsTogetherCoverTheSingleShardEpoch) {
  const int64_t T = 2;
  TrainBatches one(distinct_tokens(25), T, 8, 0, 1);  // W = 12
  TrainBatches r0(distinct_tokens(25), T, 8, 0, 2), r1(distinct_tokens(25), T, 8, 1, 2);
  ASSERT_EQ(r0.windows_per_epoch(), 6);
  for (int epoch = 0; epoch < 3; ++epoch) {
    const std::vector<int64_t> all = windows_of(one.next(12));
    const std::vector<int64_t> a = windows_of(r0.next(6)), b = windows_of(r1.next(6));
    for (int i = 0; i < 6; ++i) {  // rank r takes positions r, r + 2, ...
      EXPECT_EQ(a[i], all[2 * i]);
      EXPECT_EQ(b[i], all[2 * i + 1]);
    }
    std::set<int64_t> sa(a.begin(), a.end()), sb(b.begin(), b.end());
    std::vector<int64_t> both;
    std::set_intersection(sa.begin(), sa.end(), sb.begin(), sb.end(), std::back_inserter(both));
    EXPECT_TRUE(both.empty());
    std::set<int64_t> u = sa;
    u.insert(sb.begin(), sb.end());
    EXPECT_EQ(u, std::set<int64_t>(all.begin(), all.end()));
    EXPECT_EQ(r0.cursor().epoch, r1.cursor().epoch);
  }
}

TEST(TrainBatches, UnevenShardsDropTheTailOfEachEpoch) {
  TrainBatches one(distinct_tokens(23), 2, 8, 0, 1);  // W = 11: each of 2 ranks takes 5
  TrainBatches r0(distinct_tokens(23), 2, 8, 0, 2), r1(distinct_tokens(23), 2, 8, 1, 2);
  ASSERT_EQ(r1.windows_per_epoch(), 5);
  const std::vector<int64_t> all = windows_of(one.next(11));
  std::set<int64_t> u;
  for (int64_t w : windows_of(r0.next(5))) u.insert(w);
  for (int64_t w : windows_of(r1.next(5))) u.insert(w);
  EXPECT_EQ(u, std::set<int64_t>(all.begin(), all.end() - 1));
  EXPECT_EQ(r0.cursor().epoch, 1);
  EXPECT_EQ(r1.cursor().epoch, 1);
}

TEST(TrainBatches, RejectsBadShardsAndTinyCorpora) {
  EXPECT_THROW(TrainBatches(distinct_tokens(25), 2, 1, 2, 2), DataError);
  EXPECT_THROW(TrainBatches(distinct_tokens(25), 2, 1, -1, 2), DataError);
  EXPECT_THROW(TrainBatches(distinct_tokens(5), 2, 1, 0, 3), DataError);  // 2 windows, 3 ranks
  EXPECT_THROW(TrainBatches(distinct_tokens(3), 4, 1), DataError);
  TrainBatches tb(distinct_tokens(25), 2, 1);
  EXPECT_THROW(tb.next(0), DataError);
}

TEST(EvalBatches, InOrderWithAShortLastBatch) {
  EvalBatches eb(distinct_tokens(15), 2);  // W = 7
  const std::vector<Batch> bs = eb.first(10, 3);
  ASSERT_EQ(bs.size(), 3u);
  EXPECT_EQ(windows_of(bs[0]), (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(windows_of(bs[2]), (std::vector<int64_t>{6}));
  EXPECT_EQ(bs[2].batch_size, 1);
  EXPECT_EQ(bs[0].inputs, (std::vector<int32_t>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(bs[0].targets, (std::vector<int32_t>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(bs[0].num_targets, 6);
  EXPECT_EQ(eb.first(2, 3).size(), 2u);
  EXPECT_EQ(eb.first(2, 3)[1].inputs, bs[1].inputs);
}

TEST(EvalBatches, TooSmallValidationSetIsNamed) {
  try {
    EvalBatches eb(distinct_tokens(4), 8);
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("validation"), std::string::npos) << e.what();
  }
}

TEST(PreparePretraining, SplitsByDocumentThenPacks) {
  const std::vector<std::string> docs = {"ab", "c", "de", "f"};
  ByteTokenizer bytes;
  const PretrainData d = prepare_pretraining(docs, bytes, 0.5, 3);
  ASSERT_EQ(d.split.val.size(), 2u);  // round(4 * 0.5)
  auto expected = [&](const std::vector<int64_t>& idx) {
    std::vector<int32_t> t;
    for (int64_t i : idx) {
      for (unsigned char c : docs[i]) t.push_back(c);
      t.push_back(257);
    }
    return t;
  };
  EXPECT_EQ(d.train.tokens(), expected(d.split.train));
  EXPECT_EQ(d.val.tokens(), expected(d.split.val));
  EXPECT_EQ(d.train.num_documents() + d.val.num_documents(), 4);
  const PretrainData all = prepare_pretraining(docs, bytes, 0.0, 3);
  EXPECT_EQ(all.train.tokens(), (std::vector<int32_t>{'a', 'b', 257, 'c', 257, 'd', 'e', 257, 'f', 257}));
  EXPECT_EQ(all.val.size(), 0);
}

}  // namespace
}  // namespace bitnet::data
