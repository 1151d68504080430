// Dataset mixtures (data/mixture.h): proportions by training tokens, up- and subsampling, the
// split before mixing, determinism from the seed, and the errors.
#include "data/mixture.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <utility>

#include "data/error.h"

namespace bitnet::data {
namespace {

// Document i of source `id`: tokens {id, i, filler...}, 5 + i % 7 tokens long, so a document is
// recognised by its first two tokens and lengths vary.
MixtureSource source(int32_t id, int32_t documents, double weight, bool masked = false) {
  MixtureSource s;
  s.label = "s" + std::to_string(id);
  s.weight = weight;
  s.dataset.masked = masked;
  for (int32_t i = 0; i < documents; ++i) {
    MaskedTokens m;
    m.append(id, !masked);
    m.append(i, !masked);
    for (int32_t k = 0; k < 3 + i % 7; ++k) m.append(100 + k, true);
    s.dataset.items.push_back(m);
  }
  return s;
}

using DocKey = std::pair<int32_t, int32_t>;  // (source, document)

std::map<DocKey, int> count_docs(const std::vector<MaskedTokens>& items) {
  std::map<DocKey, int> counts;
  for (const MaskedTokens& m : items) ++counts[{m.tokens[0], m.tokens[1]}];
  return counts;
}

int64_t longest(const std::vector<MaskedTokens>& items, bool masked) {
  int64_t most = 0;
  for (const MaskedTokens& m : items) most = std::max(most, item_tokens(m, masked));
  return most;
}

Mixture small_and_large(double small_weight, double large_weight, uint64_t seed = 7, double val = 0.1) {
  return mix_sources({source(0, 40, small_weight), source(1, 400, large_weight)}, val, seed);
}

TEST(Mixture, EachSourceGetsItsWeightOfTheTrainingTokens) {
  for (const auto& [w0, w1] : {std::pair{0.5, 0.5}, {0.3, 0.7}, {0.8, 0.2}, {0.05, 0.95}}) {
    const Mixture mix = small_and_large(w0, w1);
    const int64_t total = mix.sources[0].tokens + mix.sources[1].tokens;  // the sum of the parts
    int64_t mixed = 0;
    for (size_t s = 0; s < 2; ++s) {
      const SourceProportion& p = mix.sources[s];
      EXPECT_DOUBLE_EQ(p.weight, s == 0 ? w0 / (w0 + w1) : w1 / (w0 + w1));
      const double target = double(total) * p.weight;
      // Within half of the longest document (12 tokens here) of the target.
      EXPECT_LE(std::abs(double(p.mixed_tokens) - target), 6.0) << "source " << s << " weight " << p.weight;
      mixed += p.mixed_tokens;
    }
    EXPECT_EQ(mix.train_tokens(), mixed);
    int64_t in_train = 0;
    for (const MaskedTokens& m : mix.train) in_train += item_tokens(m, false);
    EXPECT_EQ(in_train, mixed);
    EXPECT_LE(std::abs(double(mixed - total)), 12.0);
    EXPECT_NEAR(mix.sources[0].share(mixed), w0 / (w0 + w1), 0.01);
  }
}

TEST(Mixture, WeightsAreNormalized) {
  const Mixture a = small_and_large(1, 3), b = small_and_large(0.25, 0.75);
  EXPECT_EQ(count_docs(a.train), count_docs(b.train));
  EXPECT_DOUBLE_EQ(a.sources[1].weight, 0.75);
}

TEST(Mixture, UpsamplesASmallSourceWithWholePassesThenASample) {
  const Mixture mix = small_and_large(0.5, 0.5);
  const SourceProportion& small = mix.sources[0];
  ASSERT_GT(small.epochs(), 2.0);  // 36 training documents asked for half of ~400 documents' tokens
  const int passes = static_cast<int>(small.epochs());
  std::map<DocKey, int> counts = count_docs(mix.train);
  int above = 0;
  for (int32_t i = 0; i < 40; ++i) {
    const auto it = counts.find({0, i});
    if (it == counts.end()) continue;  // held out for validation
    EXPECT_TRUE(it->second == passes || it->second == passes + 1) << "document " << i << ": " << it->second;
    above += it->second == passes + 1;
  }
  EXPECT_GT(above, 0);  // the remainder is a sample, not another whole pass
  EXPECT_LT(above, small.documents);
  EXPECT_EQ(small.mixed_documents, passes * small.documents + above);
}

TEST(Mixture, SubsamplesALargeSourceWithoutRepeats) {
  const Mixture mix = small_and_large(0.5, 0.5);
  const SourceProportion& large = mix.sources[1];
  ASSERT_LT(large.epochs(), 1.0);
  EXPECT_NEAR(large.epochs(), double(large.mixed_tokens) / double(large.tokens), 1e-12);
  int64_t taken = 0;
  for (const auto& [key, count] : count_docs(mix.train)) {
    if (key.first != 1) continue;
    EXPECT_EQ(count, 1) << "document " << key.second;
    ++taken;
  }
  EXPECT_EQ(taken, large.mixed_documents);
  EXPECT_LT(taken, large.documents);
}

TEST(Mixture, NoValidationDocumentIsTrainedOnEvenWhenRepeated) {
  const Mixture mix = small_and_large(0.9, 0.1, 3, 0.2);
  const std::map<DocKey, int> train = count_docs(mix.train), val = count_docs(mix.val);
  EXPECT_EQ(int64_t(val.size()), mix.sources[0].val_documents + mix.sources[1].val_documents);
  EXPECT_EQ(mix.sources[0].val_documents, 8);  // 20% of 40, unweighted
  EXPECT_EQ(mix.sources[1].val_documents, 80);
  for (const auto& [key, count] : val) {
    EXPECT_EQ(count, 1);
    EXPECT_EQ(train.count(key), 0u) << "source " << key.first << " document " << key.second;
  }
  int64_t val_tokens = 0;
  for (const MaskedTokens& m : mix.val) val_tokens += item_tokens(m, false);
  EXPECT_EQ(val_tokens, mix.sources[0].val_tokens + mix.sources[1].val_tokens);
  // Every document is either held out or trained (the small source is upsampled 9x here).
  for (int32_t i = 0; i < 40; ++i) EXPECT_EQ(train.count({0, i}) + val.count({0, i}), 1u) << i;
}

TEST(Mixture, IsAPureFunctionOfTheSeed) {
  const Mixture a = small_and_large(0.4, 0.6, 11), b = small_and_large(0.4, 0.6, 11);
  ASSERT_EQ(a.train.size(), b.train.size());
  for (size_t i = 0; i < a.train.size(); ++i) EXPECT_EQ(a.train[i].tokens, b.train[i].tokens) << i;
  ASSERT_EQ(a.val.size(), b.val.size());
  for (size_t i = 0; i < a.val.size(); ++i) EXPECT_EQ(a.val[i].tokens, b.val[i].tokens) << i;

  const Mixture c = small_and_large(0.4, 0.6, 12);
  EXPECT_NE(count_docs(a.val), count_docs(c.val));  // another split
  bool same_order = a.train.size() == c.train.size();
  for (size_t i = 0; same_order && i < a.train.size(); ++i) same_order = a.train[i].tokens == c.train[i].tokens;
  EXPECT_FALSE(same_order);
}

TEST(Mixture, ShufflesTheSourcesTogether) {
  const Mixture mix = small_and_large(0.5, 0.5);
  // Source 0's documents are spread over the order, not a block: count the changes of source.
  int changes = 0;
  for (size_t i = 1; i < mix.train.size(); ++i) changes += mix.train[i].tokens[0] != mix.train[i - 1].tokens[0];
  EXPECT_GT(changes, int(mix.train.size()) / 4);
}

TEST(Mixture, MixesMaskedExamplesCountingTheirTokens) {
  const Mixture mix = mix_sources({source(0, 30, 1, true), source(1, 60, 1, true)}, 0.0, 5);
  EXPECT_TRUE(mix.masked);
  EXPECT_EQ(mix.sources[0].val_documents, 0);
  EXPECT_TRUE(mix.val.empty());
  const int64_t total = mix.sources[0].tokens + mix.sources[1].tokens;
  for (const SourceProportion& p : mix.sources) {
    EXPECT_LE(std::abs(double(p.mixed_tokens) - 0.5 * double(total)), double(longest(mix.train, true)) / 2);
  }
  EXPECT_EQ(mix.train.front().trained.size(), mix.train.front().tokens.size());
}

TEST(Mixture, AOneSourceMixtureIsItsTrainingSetShuffled) {
  const Mixture mix = mix_sources({source(3, 50, 2.5)}, 0.1, 9);
  EXPECT_DOUBLE_EQ(mix.sources[0].weight, 1.0);
  EXPECT_DOUBLE_EQ(mix.sources[0].epochs(), 1.0);
  EXPECT_EQ(int64_t(mix.train.size()), mix.sources[0].documents);
  for (const auto& [key, count] : count_docs(mix.train)) EXPECT_EQ(count, 1);
}

TEST(Mixture, RefusesDocumentsMixedWithExamplesNamingTheSources) {
  try {
    mix_sources({source(0, 10, 1), source(1, 10, 1, true), source(2, 10, 1)}, 0.1, 1);
    FAIL() << "no error";
  } catch (const DataError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("pre-training: s0, s2"), std::string::npos) << m;
    EXPECT_NE(m.find("fine-tuning: s1"), std::string::npos) << m;
  }
}

TEST(Mixture, RefusesBadWeightsEmptySourcesAndNoSources) {
  EXPECT_THROW(mix_sources({}, 0.1, 1), DataError);
  for (double w : {0.0, -1.0, std::nan("")}) {
    try {
      mix_sources({source(0, 10, 1), source(1, 10, w)}, 0.1, 1);
      FAIL() << "weight " << w << " accepted";
    } catch (const DataError& e) {
      EXPECT_NE(std::string(e.what()).find("source s1: weight must be a number > 0"), std::string::npos) << e.what();
    }
  }
  try {
    mix_sources({source(0, 10, 1), source(1, 0, 1)}, 0.1, 1);
    FAIL() << "empty source accepted";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("source s1 holds no documents"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace bitnet::data
