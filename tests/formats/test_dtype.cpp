// DType tables and fp16/bf16 conversions, checked against formulas (ldexp) and a brute-force
// nearest-value search, never against the conversion code itself.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "formats/dtype.h"
#include "formats/error.h"

namespace bitnet::formats {
namespace {

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

float from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// binary16 value by its definition: (-1)^s * 2^(e-15) * (1 + m/1024), subnormals m * 2^-24.
double half_by_formula(uint16_t h) {
  const int s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
  double v;
  if (e == 0)
    v = std::ldexp(m, -24);
  else if (e == 31)
    v = m == 0 ? INFINITY : NAN;
  else
    v = std::ldexp(1024 + m, e - 25);
  return s ? -v : v;
}

TEST(DType, NamesSizesRoundTrip) {
  const DType all[] = {DType::F64, DType::F32, DType::F16, DType::BF16, DType::I64,
                       DType::I32, DType::I16, DType::I8,  DType::U8,   DType::BOOL};
  const size_t sizes[] = {8, 4, 2, 2, 8, 4, 2, 1, 1, 1};
  const char* names[] = {"F64", "F32", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "BOOL"};
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(dtype_size(all[i]), sizes[i]);
    EXPECT_STREQ(dtype_name(all[i]), names[i]);
    EXPECT_EQ(dtype_from_name(names[i]), all[i]);
  }
  EXPECT_THROW(dtype_from_name("F8_E4M3"), FormatError);
  EXPECT_THROW(dtype_from_name("f32"), FormatError);
}

TEST(Half, ToFloatMatchesFormulaOnAllInputs) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const double expected = half_by_formula(static_cast<uint16_t>(h));
    const float got = half_to_float(static_cast<uint16_t>(h));
    if (std::isnan(expected)) {
      EXPECT_TRUE(std::isnan(got)) << h;
      EXPECT_EQ(bits(got) >> 31, h >> 15) << h;
    } else {
      EXPECT_EQ(static_cast<double>(got), expected) << h;
      EXPECT_EQ(std::signbit(got), (h >> 15) != 0) << h;
    }
  }
}

TEST(Half, FromFloatRoundTripsAllInputs) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = static_cast<float>(half_by_formula(static_cast<uint16_t>(h)));
    const uint16_t back = float_to_half(f);
    if (std::isnan(f)) {
      EXPECT_EQ(back & 0x7C00, 0x7C00) << h;
      EXPECT_NE(back & 0x3FF, 0) << h;
    } else {
      EXPECT_EQ(back, h) << h;
    }
  }
}

// Reference rounding: search the sorted finite non-negative halves for the nearest, ties to even
// code, beyond 65504 + half an ulp (65520) to infinity.
uint16_t half_by_search(float f, const std::vector<double>& positive) {
  const uint16_t sign = std::signbit(f) ? 0x8000 : 0;
  const double a = std::fabs(static_cast<double>(f));
  if (a >= 65520.0) return sign | 0x7C00;
  const auto it = std::lower_bound(positive.begin(), positive.end(), a);
  const size_t hi = static_cast<size_t>(it - positive.begin());
  if (hi == positive.size()) return sign | 0x7BFF;  // in (65504, 65520): nearest is the max
  if (hi < positive.size() && positive[hi] == a) return sign | static_cast<uint16_t>(hi);
  const size_t lo = hi - 1;
  const double dlo = a - positive[lo], dhi = positive[hi] - a;
  size_t pick = dlo < dhi ? lo : (dhi < dlo ? hi : ((lo & 1) ? hi : lo));
  return sign | static_cast<uint16_t>(pick);
}

TEST(Half, FromFloatRoundsToNearestEven) {
  std::vector<double> positive;  // codes 0..0x7BFF in increasing order
  for (uint32_t h = 0; h < 0x7C00; ++h) positive.push_back(half_by_formula(static_cast<uint16_t>(h)));
  // Every midpoint between neighbours, and the floats just either side of it.
  for (uint32_t h = 0; h + 1 < 0x7C00; ++h) {
    const float mid = static_cast<float>((positive[h] + positive[h + 1]) / 2);  // exact in fp32
    for (float f : {mid, std::nextafter(mid, 0.0f), std::nextafter(mid, INFINITY), -mid}) {
      EXPECT_EQ(float_to_half(f), half_by_search(f, positive)) << f;
    }
  }
  std::mt19937 rng(7);
  std::uniform_int_distribution<uint32_t> any;
  for (int i = 0; i < 200000; ++i) {
    const float f = from_bits(any(rng));
    if (std::isnan(f)) continue;
    EXPECT_EQ(float_to_half(f), half_by_search(f, positive)) << f;
  }
  EXPECT_EQ(float_to_half(65519.996f), 0x7BFF);
  EXPECT_EQ(float_to_half(65520.0f), 0x7C00);
  EXPECT_EQ(float_to_half(1e-30f), 0);
  EXPECT_EQ(float_to_half(-INFINITY), 0xFC00);
  EXPECT_TRUE(std::isnan(half_to_float(float_to_half(NAN))));
}

TEST(BFloat16, ToFloatIsTheTopHalf) {
  for (uint32_t b = 0; b < 65536; ++b) {
    EXPECT_EQ(bits(bf16_to_float(static_cast<uint16_t>(b))), b << 16) << b;
  }
}

TEST(BFloat16, FromFloatRoundTripsAndRoundsToNearestEven) {
  for (uint32_t b = 0; b < 65536; ++b) {
    const float f = from_bits(b << 16);
    if (std::isnan(f)) {
      const uint16_t back = float_to_bf16(f);
      EXPECT_EQ(back & 0x7F80, 0x7F80) << b;
      EXPECT_NE(back & 0x7F, 0) << b;
      continue;
    }
    EXPECT_EQ(float_to_bf16(f), b) << b;
    if ((b & 0x7F80) == 0x7F80) continue;  // no midpoint above +-max finite handled below
    // Midpoint to the next code up in magnitude: bits b<<16 | 0x8000, ties go to the even code.
    const uint32_t mid = (b << 16) | 0x8000u;
    const uint32_t even = (b & 1) ? b + 1 : b;
    EXPECT_EQ(float_to_bf16(from_bits(mid)), even) << b;
    EXPECT_EQ(float_to_bf16(from_bits(mid - 1)), b) << b;
    EXPECT_EQ(float_to_bf16(from_bits(mid + 1)), b + 1) << b;
  }
}

}  // namespace
}  // namespace bitnet::formats
