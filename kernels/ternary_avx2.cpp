// AVX2 ternary kernel. Each 32-byte load is one 128-column block of one row; (load >> 2n) & 3
// gives 32 unsigned codes for columns 32n..32n+31 of the block. VPMADDUBSW multiplies u8 codes by
// s8 activations and adds adjacent pairs into int16 (|pair| <= 512, never saturates); up to 8
// blocks (32 pair-sums, |sum| <= 16384) are summed in int16, then VPMADDWD widens to int32. The
// result minus sum(q) is sum(t * q) (see ternary_matrix.h). Only these functions carry the AVX2
// target attribute; TernaryMatrix calls them only on CPUs with AVX2.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "kernels/ternary_kernels.h"

#define BITNET_TARGET_AVX2 __attribute__((target("avx2")))

namespace bitnet::kernels::detail {
namespace {

constexpr int kMaxR = 4;
constexpr int kMaxT = 2;
constexpr int kTokenChunk = 64;
constexpr int64_t kBlocksPerGroup = 8;     // int16 partial sums stay within [-16384, 16256]
constexpr int64_t kPrefetchBytes = 16384;  // as in the AVX-512 kernel: run ahead of DRAM latency

struct TileArgs {
  const uint8_t* w;
  int64_t row_bytes;
  const int8_t* q;
  int64_t q_stride;
  int64_t n_blocks;  // cols_padded / 128
  const int32_t* sumq;
  int32_t* acc;
  int64_t acc_stride;
};

template <int R, int T>
BITNET_TARGET_AVX2 inline void block_step(const uint8_t* w, int64_t row_bytes, const int8_t* q, int64_t q_stride,
                                          __m256i (&s16)[R][T]) {
  const __m256i mask = _mm256_set1_epi8(3);
  __m256i p[R];
  for (int r = 0; r < R; ++r) {
    // One prefetch per 64-byte line: blocks alternate between line halves.
    if ((reinterpret_cast<uintptr_t>(w) & 63) == 0) {
      _mm_prefetch(reinterpret_cast<const char*>(w + r * row_bytes + kPrefetchBytes), _MM_HINT_T2);
    }
    p[r] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + r * row_bytes));
  }
  for (int n = 0; n < 4; ++n) {
    __m256i qv[T];
    for (int t = 0; t < T; ++t) qv[t] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + t * q_stride + 32 * n));
    for (int r = 0; r < R; ++r) {
      // Variable-count shift keeps the loop generic; counts 0/2/4/6 are exact for 16-bit lanes.
      const __m256i c = _mm256_and_si256(_mm256_srl_epi16(p[r], _mm_cvtsi32_si128(2 * n)), mask);
      for (int t = 0; t < T; ++t) s16[r][t] = _mm256_add_epi16(s16[r][t], _mm256_maddubs_epi16(c, qv[t]));
    }
  }
}

template <int R, int T>
BITNET_TARGET_AVX2 void tile(const TileArgs& a) {
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i acc[R][T];
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_si256();
  for (int64_t b0 = 0; b0 < a.n_blocks; b0 += kBlocksPerGroup) {
    const int64_t b1 = std::min(a.n_blocks, b0 + kBlocksPerGroup);
    __m256i s16[R][T];
    for (int r = 0; r < R; ++r)
      for (int t = 0; t < T; ++t) s16[r][t] = _mm256_setzero_si256();
    for (int64_t b = b0; b < b1; ++b) block_step<R, T>(a.w + 32 * b, a.row_bytes, a.q + 128 * b, a.q_stride, s16);
    for (int r = 0; r < R; ++r)
      for (int t = 0; t < T; ++t) acc[r][t] = _mm256_add_epi32(acc[r][t], _mm256_madd_epi16(s16[r][t], ones));
  }
  for (int t = 0; t < T; ++t) {
    for (int r = 0; r < R; ++r) {
      const __m128i lo = _mm256_castsi256_si128(acc[r][t]);
      const __m128i hi = _mm256_extracti128_si256(acc[r][t], 1);
      __m128i s = _mm_add_epi32(lo, hi);
      s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
      s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
      a.acc[t * a.acc_stride + r] = _mm_cvtsi128_si32(s) - a.sumq[t];
    }
  }
}

using TileFn = void (*)(const TileArgs&);

TileFn pick(int r, int t) {
  switch (r) {
    case 1:
      return t == 1 ? tile<1, 1> : tile<1, 2>;
    case 2:
      return t == 1 ? tile<2, 1> : tile<2, 2>;
    case 3:
      return t == 1 ? tile<3, 1> : tile<3, 2>;
    default:
      return t == 1 ? tile<4, 1> : tile<4, 2>;
  }
}

}  // namespace

void ternary_rows_avx2(const PackedWeights& w, const Activations& a, int64_t row_begin, int64_t row_end, int32_t* acc,
                       int64_t acc_stride) {
  const int64_t n_blocks = w.cols_padded / 128;
  for (int t0 = 0; t0 < a.n_tok; t0 += kTokenChunk) {
    const int t_end = std::min(a.n_tok, t0 + kTokenChunk);
    for (int64_t r0 = row_begin; r0 < row_end; r0 += kMaxR) {
      const int nr = static_cast<int>(std::min<int64_t>(kMaxR, row_end - r0));
      for (int t = t0; t < t_end; t += kMaxT) {
        const int nt = std::min(kMaxT, t_end - t);
        const TileArgs args{
            w.data + r0 * w.row_bytes, w.row_bytes, a.q + t * w.cols_padded, w.cols_padded, n_blocks, a.sumq + t,
            acc + t * acc_stride + r0, acc_stride};
        pick(nr, nt)(args);
      }
    }
  }
}

}  // namespace bitnet::kernels::detail
