// Q8_0 against hand-computed blocks (llama.cpp's definition: d = amax/127, q = roundf(x/d)).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "formats/dtype.h"
#include "formats/error.h"
#include "formats/q8_0.h"

namespace bitnet::formats {
namespace {

// amax = 127 -> d = 1 (fp16 0x3C00); q = round(x) with ties away from zero.
TEST(Q8_0, HandComputedBlockScaleOne) {
  float x[32] = {};
  x[0] = 127.0f, x[1] = -63.5f, x[2] = 0.5f, x[3] = -0.5f, x[4] = 2.49f, x[31] = -127.0f;
  const auto q = quantize_q8_0(x, 32);
  ASSERT_EQ(q.size(), 34u);
  EXPECT_EQ(q[0], 0x00);
  EXPECT_EQ(q[1], 0x3C);
  EXPECT_EQ(static_cast<int8_t>(q[2]), 127);
  EXPECT_EQ(static_cast<int8_t>(q[3]), -64);
  EXPECT_EQ(static_cast<int8_t>(q[4]), 1);
  EXPECT_EQ(static_cast<int8_t>(q[5]), -1);
  EXPECT_EQ(static_cast<int8_t>(q[6]), 2);
  EXPECT_EQ(static_cast<int8_t>(q[33]), -127);
  for (int j = 5; j < 31; ++j) EXPECT_EQ(q[2 + j], 0) << j;
}

// amax = 254 -> d = 2 (fp16 0x4000): 3 -> 1.5 -> 2, -1 -> -0.5 -> -1, 254 -> 127. All-zero block: d = 0.
TEST(Q8_0, HandComputedBlockScaleTwoAndZeroBlock) {
  float x[64] = {};
  x[0] = 254.0f, x[1] = 3.0f, x[2] = -1.0f;
  const auto q = quantize_q8_0(x, 64);
  ASSERT_EQ(q.size(), 68u);
  EXPECT_EQ(q[0], 0x00);
  EXPECT_EQ(q[1], 0x40);
  EXPECT_EQ(static_cast<int8_t>(q[2]), 127);
  EXPECT_EQ(static_cast<int8_t>(q[3]), 2);
  EXPECT_EQ(static_cast<int8_t>(q[4]), -1);
  for (int i = 34; i < 68; ++i) EXPECT_EQ(q[i], 0) << i;
  float back[64];
  dequantize_q8_0(q.data(), q.size(), 64, back);
  EXPECT_EQ(back[0], 254.0f);
  EXPECT_EQ(back[1], 4.0f);
  EXPECT_EQ(back[2], -2.0f);
  EXPECT_EQ(back[40], 0.0f);
}

// Error bound: |x - dequant| <= d/2 + fp16 rounding of d times 127 (d relative error <= 2^-11).
TEST(Q8_0, RandomErrorWithinHalfStep) {
  std::mt19937 rng(5);
  std::normal_distribution<float> g(0.0f, 0.02f);
  std::vector<float> x(32 * 100);
  for (auto& v : x) v = g(rng);
  const auto q = quantize_q8_0(x.data(), static_cast<int64_t>(x.size()));
  std::vector<float> back(x.size());
  dequantize_q8_0(q.data(), q.size(), static_cast<int64_t>(x.size()), back.data());
  for (size_t b = 0; b < 100; ++b) {
    float amax = 0;
    for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[b * 32 + j]));
    const float d = amax / 127;
    for (int j = 0; j < 32; ++j)
      EXPECT_LE(std::fabs(x[b * 32 + j] - back[b * 32 + j]), d * 0.5f + amax * std::ldexp(1.0f, -10));
  }
}

TEST(Q8_0, Errors) {
  float x[33] = {};
  EXPECT_THROW(quantize_q8_0(x, 33), FormatError);
  x[3] = NAN;
  EXPECT_THROW(quantize_q8_0(x, 32), FormatError);
  std::vector<uint8_t> q(33);
  EXPECT_THROW(dequantize_q8_0(q.data(), q.size(), 32, x), FormatError);
}

}  // namespace
}  // namespace bitnet::formats
