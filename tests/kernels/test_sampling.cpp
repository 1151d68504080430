// Sampling: SplitMix64 reference values, greedy ties, top-k / top-p restrict the support,
// temperature sharpens, and empirical frequencies follow the softmax.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <vector>

#include "kernels/errors.h"
#include "kernels/sampling.h"

namespace bitnet::kernels {
namespace {

TEST(Sampling, SplitMix64MatchesReferenceSequence) {
  // First outputs of SplitMix64 seeded with 1234567, computed independently from the published
  // algorithm (Steele et al. 2014; Vigna's splitmix64.c) with arbitrary-precision integers.
  Rng rng(1234567);
  EXPECT_EQ(rng.next_u64(), 6457827717110365317ULL);
  EXPECT_EQ(rng.next_u64(), 3203168211198807973ULL);
  EXPECT_EQ(rng.next_u64(), 9817491932198370423ULL);
  EXPECT_EQ(rng.next_u64(), 4593380528125082431ULL);
  EXPECT_EQ(rng.next_u64(), 16408922859458223821ULL);
}

TEST(Sampling, NextDoubleIsInUnitInterval) {
  Rng rng(7);
  for (int i = 0; i < 1000; ++i) {
    const double u = rng.next_double();
    EXPECT_GE(u, 0.0);
    EXPECT_LT(u, 1.0);
  }
}

TEST(Sampling, GreedyPicksFirstMaximum) {
  EXPECT_EQ(sample_greedy({0.1f, 3.0f, -2.0f, 3.0f}), 1);
  Rng rng(1);
  EXPECT_EQ(sample({0.1f, 3.0f, -2.0f, 3.0f}, {0.0f, 0, 1.0f}, rng), 1);
  EXPECT_EQ(rng.state(), 1u);  // greedy draws nothing
}

// The lane-wise search must agree with a plain first-maximum scan wherever the maximum sits
// (any lane, the tail past the last 8) and however often it repeats.
TEST(Sampling, GreedyMatchesAPlainScanAtEveryPosition) {
  for (size_t n : {1, 7, 8, 9, 23, 64}) {
    for (size_t at = 0; at < n; ++at) {
      std::vector<float> logits(n);
      for (size_t i = 0; i < n; ++i) logits[i] = static_cast<float>((i * 7) % 5) - 10.0f;
      logits[at] = 4.0f;
      EXPECT_EQ(sample_greedy(logits), static_cast<int32_t>(at)) << "n " << n << " at " << at;
      for (size_t later = at + 1; later < n; later += 3) logits[later] = 4.0f;
      EXPECT_EQ(sample_greedy(logits), static_cast<int32_t>(at)) << "repeated, n " << n << " at " << at;
    }
  }
  EXPECT_EQ(sample_greedy(std::vector<float>(19, -INFINITY)), 0);
  EXPECT_EQ(sample_greedy({-0.0f, 0.0f, -1.0f}), 0);  // -0 == +0: the first one wins
}

TEST(Sampling, TopKOneIsGreedy) {
  Rng rng(3);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(sample({1.0f, 2.0f, 0.5f, 1.9f}, {1.0f, 1, 1.0f}, rng), 1);
}

TEST(Sampling, TopKRestrictsSupport) {
  Rng rng(4);
  for (int i = 0; i < 500; ++i) {
    const int32_t t = sample({1.0f, 2.0f, 0.5f, 1.9f, -1.0f}, {1.0f, 2, 1.0f}, rng);
    EXPECT_TRUE(t == 1 || t == 3) << t;
  }
}

TEST(Sampling, TopPKeepsSmallestSetReachingP) {
  // probabilities ~ {0.5, 0.3, 0.2} via logits log(p); top_p = 0.75 keeps {0, 1}.
  const std::vector<float> logits = {std::log(0.5f), std::log(0.3f), std::log(0.2f)};
  Rng rng(5);
  std::map<int32_t, int> counts;
  for (int i = 0; i < 4000; ++i) counts[sample(logits, {1.0f, 0, 0.75f}, rng)]++;
  EXPECT_EQ(counts.count(2), 0u);
  // Renormalized: 0.5 / 0.8 = 0.625 for token 0.
  EXPECT_NEAR(counts[0] / 4000.0, 0.625, 0.03);
}

TEST(Sampling, FrequenciesFollowSoftmaxAtTemperature) {
  const std::vector<float> logits = {0.0f, 1.0f, 2.0f};
  for (float temp : {1.0f, 0.5f}) {
    Rng rng(6);
    std::vector<int> counts(3, 0);
    const int n = 20000;
    for (int i = 0; i < n; ++i) counts[sample(logits, {temp, 0, 1.0f}, rng)]++;
    double z = 0;
    for (float l : logits) z += std::exp(l / temp);
    for (int k = 0; k < 3; ++k) EXPECT_NEAR(counts[k] / double(n), std::exp(logits[k] / temp) / z, 0.015);
  }
}

TEST(Sampling, SameSeedSameSequence) {
  const std::vector<float> logits = {0.3f, 0.1f, 0.2f, 0.4f, 0.0f};
  Rng a(99), b(99);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(sample(logits, {0.8f, 3, 0.9f}, a), sample(logits, {0.8f, 3, 0.9f}, b));
}

TEST(Sampling, BadInputsThrow) {
  Rng rng(1);
  EXPECT_THROW(sample({}, {}, rng), KernelError);
  EXPECT_THROW(sample({1.0f}, {1.0f, 0, 0.0f}, rng), KernelError);
  EXPECT_THROW(sample({1.0f}, {1.0f, 0, 1.5f}, rng), KernelError);
  EXPECT_THROW(sample_greedy({1.0f, std::nanf("")}), KernelError);
  std::vector<float> late_nan(21, 1.0f);
  late_nan[17] = std::nanf("");  // in a lane, not the tail
  EXPECT_THROW(sample_greedy(late_nan), KernelError);
  late_nan[17] = 1.0f;
  late_nan[20] = std::nanf("");  // in the tail
  EXPECT_THROW(sample_greedy(late_nan), KernelError);
}

}  // namespace
}  // namespace bitnet::kernels
