// SplitMix64 against its published reference outputs, Fisher–Yates and the document split
// against values computed by a separate Python implementation of the same definitions, plus the
// size rules of split_documents worked out by hand.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "data/error.h"
#include "data/rng.h"
#include "data/split.h"

namespace bitnet::data {
namespace {

TEST(SplitMix64, MatchesReferenceOutputsForSeed1234567) {
  SplitMix64 rng(1234567);
  EXPECT_EQ(rng.next(), 6457827717110365317ULL);
  EXPECT_EQ(rng.next(), 3203168211198807973ULL);
  EXPECT_EQ(rng.next(), 9817491932198370423ULL);
  EXPECT_EQ(rng.next(), 4593380528125082431ULL);
  EXPECT_EQ(rng.next(), 16408922859458223821ULL);
}

TEST(SplitMix64, UniformStaysBelowBound) {
  SplitMix64 rng(7);
  for (uint64_t bound : {1ULL, 2ULL, 3ULL, 1000ULL, (1ULL << 63) + 1}) {
    for (int i = 0; i < 100; ++i) EXPECT_LT(rng.uniform(bound), bound);
  }
}

TEST(RandomPermutation, MatchesIndependentComputation) {
  // Python: i from 6 down to 1, j = uniform(i + 1) by rejection, swap.
  SplitMix64 rng(1234567);
  EXPECT_EQ(random_permutation(7, rng), (std::vector<int64_t>{5, 0, 2, 4, 3, 6, 1}));
  SplitMix64 rng0(1);
  EXPECT_TRUE(random_permutation(0, rng0).empty());
}

TEST(SplitDocuments, MatchesIndependentComputation) {
  const DocumentSplit s = split_documents(10, 0.3, 42);
  EXPECT_EQ(s.val, (std::vector<int64_t>{0, 1, 4}));
  EXPECT_EQ(s.train, (std::vector<int64_t>{2, 3, 5, 6, 7, 8, 9}));
}

TEST(SplitDocuments, SizesFollowTheRoundingRules) {
  struct Case {
    int64_t docs;
    double frac;
    size_t val;
  };
  const Case cases[] = {
      {100, 0.1, 10},                              // 10.0
      {10, 0.25, 3},                               // 2.5 rounds half away from zero
      {10, 0.24, 2},                               // 2.4
      {100, 0.001, 1},                             // 0.1 rounds to 0, raised to 1
      {2, 0.01, 1},                                // at least one when docs >= 2
      {1, 0.5, 0},                                 // a single document stays in training
      {0, 0.5, 0},     {10, 0.0, 0}, {4, 0.9, 3},  // round(3.6) = 4 would empty training: capped at docs - 1
  };
  for (const Case& c : cases) {
    const DocumentSplit s = split_documents(c.docs, c.frac, 1);
    EXPECT_EQ(s.val.size(), c.val) << c.docs << " docs, fraction " << c.frac;
    EXPECT_EQ(s.train.size() + s.val.size(), static_cast<size_t>(c.docs));
  }
}

TEST(SplitDocuments, PartitionIsSortedDisjointAndDeterministic) {
  const DocumentSplit a = split_documents(1000, 0.05, 3);
  const DocumentSplit b = split_documents(1000, 0.05, 3);
  const DocumentSplit c = split_documents(1000, 0.05, 4);
  EXPECT_EQ(a.train, b.train);
  EXPECT_EQ(a.val, b.val);
  EXPECT_NE(a.val, c.val);
  EXPECT_TRUE(std::is_sorted(a.train.begin(), a.train.end()));
  EXPECT_TRUE(std::is_sorted(a.val.begin(), a.val.end()));
  std::vector<int64_t> all;
  std::merge(a.train.begin(), a.train.end(), a.val.begin(), a.val.end(), std::back_inserter(all));
  std::vector<int64_t> expected(1000);
  std::iota(expected.begin(), expected.end(), 0);
  EXPECT_EQ(all, expected);
}

TEST(SplitDocuments, RejectsBadArguments) {
  EXPECT_THROW(split_documents(10, 1.0, 1), DataError);
  EXPECT_THROW(split_documents(10, -0.1, 1), DataError);
  EXPECT_THROW(split_documents(10, std::nan(""), 1), DataError);
  EXPECT_THROW(split_documents(-1, 0.1, 1), DataError);
}

}  // namespace
}  // namespace bitnet::data
