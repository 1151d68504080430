// Ternary packings: a million random trits round-trip bit-exactly in every format, and one block
// of each format matches bytes computed by hand from the format definitions (worked out in the
// comments, not produced by the code under test).
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "formats/error.h"
#include "formats/ternary_pack.h"

namespace bitnet::formats {
namespace {

std::vector<int8_t> random_trits(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> pick(-1, 1);
  std::vector<int8_t> t(n);
  for (auto& x : t) x = static_cast<int8_t>(pick(rng));
  return t;
}

// 1,048,576 trits as [1024, 1024] (TQ rows of 4 blocks; HF 256 row groups).
constexpr int64_t kRows = 1024, kCols = 1024;

TEST(TernaryPack, Tq2RoundTripMillion) {
  const auto trits = random_trits(kRows * kCols, 1);
  const auto packed = pack_tq2_0(trits.data(), kRows, kCols);
  ASSERT_EQ(packed.size(), kRows * kCols / 256 * 66);
  std::vector<int8_t> back(trits.size());
  std::vector<float> d;
  unpack_tq2_0(packed.data(), packed.size(), kRows, kCols, back.data(), &d);
  EXPECT_EQ(back, trits);
  ASSERT_EQ(d.size(), static_cast<size_t>(kRows * kCols / 256));
  for (float s : d) ASSERT_EQ(s, 1.0f);
}

TEST(TernaryPack, Tq1RoundTripMillion) {
  const auto trits = random_trits(kRows * kCols, 2);
  const auto packed = pack_tq1_0(trits.data(), kRows, kCols);
  ASSERT_EQ(packed.size(), kRows * kCols / 256 * 54);
  std::vector<int8_t> back(trits.size());
  std::vector<float> d;
  unpack_tq1_0(packed.data(), packed.size(), kRows, kCols, back.data(), &d);
  EXPECT_EQ(back, trits);
  for (float s : d) ASSERT_EQ(s, 1.0f);
}

TEST(TernaryPack, HfRoundTripMillion) {
  const auto trits = random_trits(kRows * kCols, 3);
  const auto packed = pack_hf_bitnet(trits.data(), kRows, kCols);
  ASSERT_EQ(packed.size(), static_cast<size_t>(kRows / 4 * kCols));
  std::vector<int8_t> back(trits.size());
  unpack_hf_bitnet(packed.data(), packed.size(), kRows, kCols, back.data());
  EXPECT_EQ(back, trits);
}

// One TQ2_0 block, all weights 0 (code 1) except w0 = +1, w32 = -1, w64 = +1, w129 = -1, w255 = +1.
// Byte j*32+m holds weights j*128 + n*32 + m at bits 2n, codes q+1:
//   all-zero byte: 1 + 1<<2 + 1<<4 + 1<<6 = 0x55
//   byte 0  (w0, w32, w64, w96):     2 + 0<<2 + 2<<4 + 1<<6 = 2 + 32 + 64 = 98 = 0x62
//   byte 33 (w129, w161, w193, w225): 0 + 4 + 16 + 64 = 84 = 0x54
//   byte 63 (w159, w191, w223, w255): 1 + 4 + 16 + 2<<6 = 149 = 0x95
//   bytes 64, 65: fp16 1.0 = 0x3C00 little-endian -> 0x00, 0x3C
TEST(TernaryPack, Tq2HandComputedBlock) {
  std::vector<int8_t> w(256, 0);
  w[0] = 1, w[32] = -1, w[64] = 1, w[129] = -1, w[255] = 1;
  std::vector<uint8_t> expected(66, 0x55);
  expected[0] = 0x62, expected[33] = 0x54, expected[63] = 0x95, expected[64] = 0x00, expected[65] = 0x3C;
  EXPECT_EQ(pack_tq2_0(w.data(), 1, 256), expected);
  std::vector<int8_t> back(256);
  unpack_tq2_0(expected.data(), expected.size(), 1, 256, back.data());
  EXPECT_EQ(back, w);
}

// One TQ1_0 block with w0 = +1, w1 = -1, w32 = -1, w160 = +1, w175 = -1, w240 = +1, w255 = -1.
// A byte holds base-3 digits (code = q+1, leading digit first) v as ceil(v * 256 / 243).
//   five zeros: v = 1*(81+27+9+3+1) = 121, 121*256 = 30976 = 243*127 + 115 -> 128
//   four zeros in qh (times 3): v = (27+9+3+1)*3 = 120, 30720 = 243*126 + 102 -> 127
//   qs[0]  = w0,w32,w64,w96,w128  codes 2,0,1,1,1: v = 162+0+9+3+1 = 175, 44800 = 243*184 + 88 -> 185
//   qs[1]  = w1,w33,w65,w97,w129  codes 0,1,1,1,1: v = 40,  10240 = 243*42 + 34  -> 43
//   qs[32] = w160,w176,...,w224   codes 2,1,1,1,1: v = 202, 51712 = 243*212 + 196 -> 213
//   qs[47] = w175,w191,...,w239   codes 0,1,1,1,1: v = 40 -> 43
//   qh[0]  = w240,w244,w248,w252  codes 2,1,1,1: v = (54+9+3+1)*3 = 201, 51456 = 243*211 + 183 -> 212
//   qh[3]  = w243,w247,w251,w255  codes 1,1,1,0: v = (27+9+3+0)*3 = 117, 29952 = 243*123 + 63 -> 124
//   d = fp16 1.0 -> 0x00, 0x3C
TEST(TernaryPack, Tq1HandComputedBlock) {
  std::vector<int8_t> w(256, 0);
  w[0] = 1, w[1] = -1, w[32] = -1, w[160] = 1, w[175] = -1, w[240] = 1, w[255] = -1;
  std::vector<uint8_t> expected(54, 128);
  for (int j = 48; j < 52; ++j) expected[j] = 127;
  expected[0] = 185, expected[1] = 43, expected[32] = 213, expected[47] = 43;
  expected[48] = 212, expected[51] = 124, expected[52] = 0x00, expected[53] = 0x3C;
  EXPECT_EQ(pack_tq1_0(w.data(), 1, 256), expected);
  std::vector<int8_t> back(256);
  unpack_tq1_0(expected.data(), expected.size(), 1, 256, back.data());
  EXPECT_EQ(back, w);
}

// llama.cpp's TQ1_0 decoding rule, written out here: digit k of byte b is ((b * 3^k) mod 256) * 3 >> 8.
TEST(TernaryPack, Tq1DecodingRuleOnEveryDigitPattern) {
  for (int v = 0; v < 243; ++v) {
    std::vector<int8_t> w(256, 0);
    int digits[5] = {v / 81, v / 27 % 3, v / 9 % 3, v / 3 % 3, v % 3};
    for (int n = 0; n < 5; ++n) w[n * 32] = static_cast<int8_t>(digits[n] - 1);  // byte 0 of qs
    const auto packed = pack_tq1_0(w.data(), 1, 256);
    const int byte = (v * 256 + 242) / 243;
    ASSERT_EQ(packed[0], byte) << v;
    int pow3 = 1;
    for (int n = 0; n < 5; ++n, pow3 *= 3) {
      const int q = (byte * pow3) & 0xFF;
      EXPECT_EQ((q * 3) >> 8, digits[n]) << v << " digit " << n;
    }
  }
}

// HF packed, W is [8, 2] (R = 2): packed[r, c] bits 2i..2i+1 = W[2i + r, c] + 1.
// Column 0 of W = {1, 0, -1, 1, 0, 0, -1, -1}, column 1 all 0.
//   packed[0,0] = W0,W2,W4,W6 = codes 2,0,1,0 -> 2 + 0 + 16 + 0 = 18
//   packed[1,0] = W1,W3,W5,W7 = codes 1,2,1,0 -> 1 + 8 + 16 + 0 = 25
//   packed[r,1] = all code 1 -> 0x55 = 85
TEST(TernaryPack, HfHandComputed) {
  const int8_t w[16] = {1, 0, 0, 0, -1, 0, 1, 0, 0, 0, 0, 0, -1, 0, -1, 0};  // [8, 2] row-major
  const std::vector<uint8_t> expected = {18, 85, 25, 85};
  EXPECT_EQ(pack_hf_bitnet(w, 8, 2), expected);
  int8_t back[16];
  unpack_hf_bitnet(expected.data(), expected.size(), 8, 2, back);
  EXPECT_EQ(std::vector<int8_t>(back, back + 16), std::vector<int8_t>(w, w + 16));
}

TEST(TernaryPack, ClearErrors) {
  std::vector<int8_t> w(512, 0);
  try {
    pack_tq2_0(w.data(), 2, 100);
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("not a multiple of 256"), std::string::npos) << e.what();
  }
  EXPECT_THROW(pack_tq1_0(w.data(), 1, 255), FormatError);
  EXPECT_THROW(pack_hf_bitnet(w.data(), 6, 2), FormatError);
  w[7] = 2;
  try {
    pack_tq2_0(w.data(), 1, 256);
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("weight 7 is 2"), std::string::npos) << e.what();
  }
  std::vector<uint8_t> bad(66, 0xFF);
  std::vector<int8_t> out(256);
  EXPECT_THROW(unpack_tq2_0(bad.data(), bad.size(), 1, 256, out.data()), FormatError);
  EXPECT_THROW(unpack_tq2_0(bad.data(), 65, 1, 256, out.data()), FormatError);
  std::vector<uint8_t> bad1(54, 128);
  bad1[5] = 1;  // v = 0 encodes to 0 and v = 1 to ceil(256/243) = 2: 1 is never produced
  EXPECT_THROW(unpack_tq1_0(bad1.data(), bad1.size(), 1, 256, out.data()), FormatError);
  std::vector<uint8_t> bad_qh(54, 128);
  bad_qh[50] = 128;  // 128 decodes to five 1-digits; a qh byte must end in a 0 digit
  EXPECT_THROW(unpack_tq1_0(bad_qh.data(), bad_qh.size(), 1, 256, out.data()), FormatError);
  const uint8_t hf_bad[1] = {0xC0};
  int8_t hf_out[4];
  EXPECT_THROW(unpack_hf_bitnet(hf_bad, 1, 4, 1, hf_out), FormatError);
}

}  // namespace
}  // namespace bitnet::formats
