// AVX-512 (F + BW + VNNI) ternary kernel. Each 64-byte load covers two 128-column blocks of one
// row; (load >> 2n) & 3 gives 64 unsigned codes whose columns match the permuted activations, and
// VPDPBUSD multiplies u8 codes by s8 activations, summing 4 products into each int32 lane (no
// saturation, exact). The result minus sum(q) is sum(t * q) (see ternary_matrix.h).
// Compiled for baseline x86-64: only the functions below carry the AVX-512 target attribute, and
// TernaryMatrix calls them only when cpuid says the CPU supports it.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "kernels/ternary_kernels.h"

#define BITNET_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512vnni")))

namespace bitnet::kernels::detail {
namespace {

constexpr int kMaxR = 4;         // rows per tile
constexpr int kMaxT = 4;         // tokens per tile (GEMM); GEMV uses T = 1
constexpr int kTokenChunk = 64;  // tokens kept hot in L1/L2 while a row block's weights are reused
// Software prefetch distance: the hardware prefetcher alone leaves GEMV latency-bound (the loads
// are interleaved with enough arithmetic that the out-of-order window cannot cover DRAM latency).
// Rows of a tile are contiguous, so "16 KiB past the line being read" runs ahead of the stream;
// the T2 hint (outer cache levels) measured ~2x faster than T0 or NTA on the development machine
// (AMD EPYC, AVX-512), where it brings single-thread decode GEMV to the streaming-read bandwidth.
constexpr int64_t kPrefetchBytes = 16384;

struct TileArgs {
  const uint8_t* w;  // first row of the tile
  int64_t row_bytes;
  const int8_t* q;      // first token of the tile (permuted, padded)
  int64_t q_stride;     // cols_padded
  int64_t n_chunks;     // cols_padded / 256
  const int32_t* sumq;  // first token's sum
  int32_t* acc;         // acc[t * acc_stride + r] for the tile's first row/token
  int64_t acc_stride;
};

// Independent accumulators per (row, token): VPDPBUSD has a multi-cycle latency, so with few
// tokens the four shifts of a chunk go to separate accumulators to keep enough chains in flight.
template <int T>
constexpr int kAccPerDot = T == 1   ? 4
                           : T == 2 ? 2
                                    : 1;

template <int R, int T, int N>
BITNET_TARGET_AVX512 inline void shift_step(const __m512i (&p)[R], const int8_t* q, int64_t q_stride,
                                            __m512i (&acc)[R][T][kAccPerDot<T>]) {
  const __m512i mask = _mm512_set1_epi8(3);
  constexpr int slot = N % kAccPerDot<T>;
  __m512i c[R];
  for (int r = 0; r < R; ++r) c[r] = _mm512_and_si512(_mm512_srli_epi16(p[r], 2 * N), mask);
  for (int t = 0; t < T; ++t) {
    const __m512i qv = _mm512_loadu_si512(q + t * q_stride + 64 * N);
    for (int r = 0; r < R; ++r) acc[r][t][slot] = _mm512_dpbusd_epi32(acc[r][t][slot], c[r], qv);
  }
}

// Horizontal int32 sum; avoids _mm512_reduce_add_epi32, whose GCC 12 expansion trips
// -Wuninitialized through _mm256_undefined_si256 (so does _mm512_castsi512_si256).
BITNET_TARGET_AVX512 inline int32_t hsum(__m512i v) {
  const __m256i s8 =
      _mm256_add_epi32(_mm512_maskz_extracti64x4_epi64(0xF, v, 0), _mm512_maskz_extracti64x4_epi64(0xF, v, 1));
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(s8), _mm256_extracti128_si256(s8, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
  return _mm_cvtsi128_si32(s);
}

template <int R, int T>
BITNET_TARGET_AVX512 void tile(const TileArgs& a) {
  constexpr int A = kAccPerDot<T>;
  __m512i acc[R][T][A];
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t)
      for (int i = 0; i < A; ++i) acc[r][t][i] = _mm512_setzero_si512();
  for (int64_t k = 0; k < a.n_chunks; ++k) {
    __m512i p[R];
    for (int r = 0; r < R; ++r) {
      const uint8_t* line = a.w + r * a.row_bytes + 64 * k;
      _mm_prefetch(reinterpret_cast<const char*>(line + kPrefetchBytes), _MM_HINT_T2);
      p[r] = _mm512_loadu_si512(line);
    }
    const int8_t* q = a.q + 256 * k;
    shift_step<R, T, 0>(p, q, a.q_stride, acc);
    shift_step<R, T, 1>(p, q, a.q_stride, acc);
    shift_step<R, T, 2>(p, q, a.q_stride, acc);
    shift_step<R, T, 3>(p, q, a.q_stride, acc);
  }
  for (int t = 0; t < T; ++t)
    for (int r = 0; r < R; ++r) {
      __m512i sum = acc[r][t][0];
      for (int i = 1; i < A; ++i) sum = _mm512_add_epi32(sum, acc[r][t][i]);
      a.acc[t * a.acc_stride + r] = hsum(sum) - a.sumq[t];
    }
}

using TileFn = void (*)(const TileArgs&);

template <int R>
constexpr TileFn pick_t(int t) {
  return t == 1 ? tile<R, 1> : t == 2 ? tile<R, 2> : t == 3 ? tile<R, 3> : tile<R, 4>;
}

TileFn pick(int r, int t) {
  switch (r) {
    case 1:
      return pick_t<1>(t);
    case 2:
      return pick_t<2>(t);
    case 3:
      return pick_t<3>(t);
    default:
      return pick_t<4>(t);
  }
}

}  // namespace

void ternary_rows_avx512(const PackedWeights& w, const Activations& a, int64_t row_begin, int64_t row_end, int32_t* acc,
                         int64_t acc_stride) {
  const int64_t n_chunks = w.cols_padded / 256;
  for (int t0 = 0; t0 < a.n_tok; t0 += kTokenChunk) {
    const int t_end = std::min(a.n_tok, t0 + kTokenChunk);
    for (int64_t r0 = row_begin; r0 < row_end; r0 += kMaxR) {
      const int nr = static_cast<int>(std::min<int64_t>(kMaxR, row_end - r0));
      for (int t = t0; t < t_end; t += kMaxT) {
        const int nt = std::min(kMaxT, t_end - t);
        const TileArgs args{
            w.data + r0 * w.row_bytes, w.row_bytes, a.q + t * w.cols_padded, w.cols_padded, n_chunks, a.sumq + t,
            acc + t * acc_stride + r0, acc_stride};
        pick(nr, nt)(args);
      }
    }
  }
}

}  // namespace bitnet::kernels::detail
