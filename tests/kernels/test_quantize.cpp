// Activation quantization on hand-computed cases: the scale formula, round-half-to-even ties,
// clamping at -128, the all-zero row, the output rescale order, and the SIMD path against the
// scalar reference.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "kernels/quantize.h"

namespace bitnet::kernels {
namespace {

TEST(Quantize, ScaleIs127OverAbsmax) {
  const std::vector<float> x = {1.0f, -2.0f, 0.5f, 2.0f};
  std::vector<int8_t> q(4);
  const float s = quantize_row(x.data(), 4, q.data());
  EXPECT_EQ(s, 63.5f);  // 127 / 2
  // 1 * 63.5 = 63.5 -> 64 (tie to even), -127, 0.5 * 63.5 = 31.75 -> 32, 127
  EXPECT_EQ(q, (std::vector<int8_t>{64, -127, 32, 127}));
}

TEST(Quantize, TiesRoundToEven) {
  // absmax 127 gives s = 1 exactly, so x * s = x and the ties are exact.
  const std::vector<float> x = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 3.5f, 127.0f};
  std::vector<int8_t> q(x.size());
  const float s = quantize_row(x.data(), static_cast<int64_t>(x.size()), q.data());
  EXPECT_EQ(s, 1.0f);
  EXPECT_EQ(q, (std::vector<int8_t>{0, 2, 2, 0, -2, -2, 4, 127}));
}

TEST(Quantize, TinyRowsUseTheEpsFloor) {
  // absmax 5e-6 < 1e-5, so s = 127 / 1e-5 and values stay well inside [-127, 127].
  const std::vector<float> y = {-5e-6f, 1e-6f};
  std::vector<int8_t> q(2);
  const float s = quantize_row(y.data(), 2, q.data());
  EXPECT_EQ(s, 127.0f / 1e-5f);
  EXPECT_EQ(q[0], -64);  // fp32: -5e-6f * 12700000 = -63.5 exactly -> -64 (tie to even)
  EXPECT_EQ(q[1], 13);   // 1e-6 * 1.27e7 = 12.7 -> 13
}

TEST(Quantize, AbsmaxElementsMapToPlusMinus127) {
  // For finite rows |x * s| <= 127 up to fp32 rounding, so the extremes are +-127, never -128.
  const std::vector<float> x = {-3.0f, 3.0f, -2.9999998f, 0.1f};
  std::vector<int8_t> q(4);
  quantize_row(x.data(), 4, q.data());
  EXPECT_EQ(q, (std::vector<int8_t>{-127, 127, -127, 4}));  // 0.1 * 42.333 = 4.23 -> 4
}

TEST(Quantize, ClampsToMinus128ForNonFinite) {
  // The lower clamp only bites when x * s is not a finite in-range number; NaN must not be
  // undefined behaviour in the float -> int8 conversion, so it saturates to -128.
  const std::vector<float> nan_row = {std::nanf(""), 1.0f};
  std::vector<int8_t> q(2);
  quantize_row(nan_row.data(), 2, q.data());
  EXPECT_EQ(q[0], -128);
}

TEST(Quantize, AllZeroRowGivesZeros) {
  const std::vector<float> x(9, 0.0f);
  std::vector<int8_t> q(9, 5);
  const float s = quantize_row(x.data(), 9, q.data());
  EXPECT_EQ(s, 127.0f / 1e-5f);
  EXPECT_EQ(q, std::vector<int8_t>(9, 0));
}

TEST(Quantize, RowsAreIndependent) {
  const std::vector<float> x = {1.0f, 2.0f, 10.0f, -5.0f};
  std::vector<int8_t> q(4);
  std::vector<float> s(2);
  quantize_rows(x.data(), 2, 2, q.data(), s.data());
  EXPECT_EQ(s[0], 63.5f);
  EXPECT_EQ(s[1], 12.7f);
  EXPECT_EQ(q, (std::vector<int8_t>{64, 127, 127, -64}));  // -5 * 12.7 = -63.5 -> -64
}

// quantize_row (AVX2 where the CPU has it) equals the scalar reference on every length's tail,
// on exact ties (absmax 127 makes s = 1), and on rows holding NaN or infinity.
TEST(Quantize, DispatchedPathEqualsScalarReference) {
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  std::uniform_int_distribution<int> half_steps(-254, 254);
  auto check = [](const std::vector<float>& x, const char* what) {
    std::vector<int8_t> a(x.size()), b(x.size());
    const float sa = quantize_row(x.data(), static_cast<int64_t>(x.size()), a.data());
    const float sb = quantize_row_scalar(x.data(), static_cast<int64_t>(x.size()), b.data());
    EXPECT_EQ(std::memcmp(&sa, &sb, sizeof(float)), 0) << what << " n " << x.size();
    EXPECT_EQ(a, b) << what << " n " << x.size();
  };
  for (size_t n : {size_t{0}, size_t{1}, size_t{7}, size_t{8}, size_t{31}, size_t{32}, size_t{33}, size_t{70},
                   size_t{2560}, size_t{6912}}) {
    std::vector<float> x(n);
    for (auto& v : x) v = normal(rng);
    check(x, "normal");
    for (auto& v : x) v = 0.5f * static_cast<float>(half_steps(rng));
    if (n > 0) x[0] = 127.0f;
    check(x, "ties");
    if (n > 1) {
      x[n / 2] = std::numeric_limits<float>::quiet_NaN();
      check(x, "nan");
      x[n - 1] = -std::numeric_limits<float>::infinity();
      check(x, "inf");
    }
  }
}

TEST(Quantize, RescaleDividesThenMultiplies) {
  const std::vector<int32_t> acc = {127, -254, 0};
  std::vector<float> y(3);
  rescale_output(acc.data(), 3, 63.5f, 0.25f, y.data());
  EXPECT_EQ(y[0], 0.5f);  // 127 / 63.5 = 2, * 0.25
  EXPECT_EQ(y[1], -1.0f);
  EXPECT_EQ(y[2], 0.0f);
  const float odd_s = 3.0f, w = 0.1f;
  rescale_output(acc.data(), 1, odd_s, w, y.data());
  EXPECT_EQ(y[0], (127.0f / odd_s) * w);
}

}  // namespace
}  // namespace bitnet::kernels
