// Tile operations of the CPU bf16 flash attention (see attention_tiles.h). The functions that use
// AVX-512 carry their target in an attribute, so the rest of the build stays at the baseline and
// the caller picks this path by cpu_has_avx512_bf16().
#include "layers/attention_tiles.h"

// GCC 12's AVX-512 intrinsics (max, min, roundscale, scalef, the reductions) pass
// _mm512_undefined_ps() as the unused merge source of their masked builtins, which -Wuninitialized
// reports wherever they are inlined. The values are never read; the warning is off for this file.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <cstring>

namespace bitnet::attention_tiles {

namespace {

#define BITNET_AVX512_BF16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,fma")))

uint32_t load_pair(const uint16_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// e^x for 16 lanes: x = n ln2 + r with |r| <= ln2 / 2, e^r by its degree-7 Taylor polynomial (error
// below 1 ulp there), scaled by 2^n. Lanes below kExpLowest (-inf included) give exactly 0: their
// e^x would be denormal, which VSCALEFPS only produces through a microcode assist of some hundred
// cycles, and every masked score of a causal block took that path (the exp and softmax-gradient
// rows were ~9% of a CPU training step, 60% of it on the instruction after VSCALEFPS). Above it,
// n >= -126 and e^r >= 1, so the result is a normal float. VCVTNEPS2BF16 flushed those denormals to
// zero already, so the bf16 probabilities and gradients keep their bits; a row sum loses terms
// below 1.2e-38.
BITNET_AVX512_BF16 __m512 exp16(__m512 x) {
  const __m512 lowest = _mm512_set1_ps(kExpLowest);
  const __m512 xc = _mm512_min_ps(_mm512_max_ps(x, lowest), _mm512_set1_ps(88.7f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(xc, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145751953125f), xc);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.428606765330187e-06f), r);
  __m512 p = _mm512_set1_ps(1.0f / 5040);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  const __mmask16 underflow = _mm512_cmp_ps_mask(x, lowest, _CMP_LT_OQ);
  return _mm512_mask_mov_ps(_mm512_scalef_ps(p, n), underflow, _mm512_setzero_ps());
}

// Round to nearest even, as c10::BFloat16 does for finite values.
BITNET_AVX512_BF16 void store_bf16(uint16_t* dst, __m512 v) {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), reinterpret_cast<__m256i>(_mm512_cvtneps_pbh(v)));
}

// c[MR x 16*NV] += a[MR x K] * B: the register tile. Each step of K/2 loads NV vectors of B (a pair
// of K for 16 columns each) and broadcasts one pair of each row of a.
template <int MR, int NV>
BITNET_AVX512_BF16 void micro_tile(const uint16_t* a, int64_t lda, const uint16_t* b, int64_t ldb, float* c,
                                   int64_t ldc, int64_t k) {
  __m512 acc[MR][NV];
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_loadu_ps(c + r * ldc + 16 * v);
  for (int64_t kp = 0; kp < k / 2; ++kp) {
    __m512bh bv[NV];
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) bv[v] = reinterpret_cast<__m512bh>(_mm512_loadu_si512(b + kp * 2 * ldb + 32 * v));
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const __m512bh av =
          reinterpret_cast<__m512bh>(_mm512_set1_epi32(static_cast<int>(load_pair(a + r * lda + 2 * kp))));
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_dpbf16_ps(acc[r][v], av, bv[v]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) _mm512_storeu_ps(c + r * ldc + 16 * v, acc[r][v]);
}

// All rows of one column strip of NV vectors: MR = 4 rows at a time, then single rows.
template <int NV>
void column_strip(const uint16_t* a, int64_t lda, const uint16_t* b, int64_t ldb, float* c, int64_t ldc, int64_t m,
                  int64_t k) {
  int64_t row = 0;
  for (; row + 4 <= m; row += 4) micro_tile<4, NV>(a + row * lda, lda, b, ldb, c + row * ldc, ldc, k);
  for (; row < m; ++row) micro_tile<1, NV>(a + row * lda, lda, b, ldb, c + row * ldc, ldc, k);
}

// An 8 x 8 block of 16-bit values transposed in SSE2 registers (x86-64's baseline): pairs of rows
// interleaved by 16, then 32, then 64 bits leave column j of the block in register j.
void transpose8x8(const uint16_t* src, int64_t src_ld, uint16_t* dst, int64_t dst_ld) {
  __m128i r[8], a[8], b[8];
  for (int i = 0; i < 8; ++i) r[i] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i * src_ld));
  for (int i = 0; i < 4; ++i) {
    a[2 * i] = _mm_unpacklo_epi16(r[2 * i], r[2 * i + 1]);      // columns 0-3 of rows 2i, 2i + 1
    a[2 * i + 1] = _mm_unpackhi_epi16(r[2 * i], r[2 * i + 1]);  // columns 4-7
  }
  for (int h = 0; h < 2; ++h) {  // rows 0-3, then 4-7
    const __m128i* x = a + 4 * h;
    b[4 * h + 0] = _mm_unpacklo_epi32(x[0], x[2]);  // columns 0, 1 of the four rows
    b[4 * h + 1] = _mm_unpackhi_epi32(x[0], x[2]);  // columns 2, 3
    b[4 * h + 2] = _mm_unpacklo_epi32(x[1], x[3]);  // columns 4, 5
    b[4 * h + 3] = _mm_unpackhi_epi32(x[1], x[3]);  // columns 6, 7
  }
  for (int c = 0; c < 4; ++c) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + (2 * c) * dst_ld), _mm_unpacklo_epi64(b[c], b[4 + c]));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + (2 * c + 1) * dst_ld), _mm_unpackhi_epi64(b[c], b[4 + c]));
  }
}

}  // namespace

bool cpu_has_avx512_bf16() {
  static const bool has = __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512bw") &&
                          __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma");
  return has;
}

void pack_transposed(const uint16_t* src, int64_t src_ld, int64_t rows, int64_t cols, uint16_t* packed, int64_t ld) {
  for (int64_t pair = 0; pair < cols / 2; ++pair) {
    uint16_t* out = packed + pair * 2 * ld;
    for (int64_t r = 0; r < rows; ++r) std::memcpy(out + 2 * r, src + r * src_ld + 2 * pair, 2 * sizeof(uint16_t));
    std::memset(out + 2 * rows, 0, (ld - rows) * 2 * sizeof(uint16_t));
  }
}

void pack_row_pairs(const uint16_t* src, int64_t src_ld, int64_t rows, int64_t padded_rows, int64_t cols,
                    uint16_t* packed, int64_t ld) {
  for (int64_t pair = 0; pair < padded_rows / 2; ++pair) {
    uint16_t* out = packed + pair * 2 * ld;
    const int64_t k = 2 * pair;
    const uint16_t* even = k < rows ? src + k * src_ld : nullptr;
    const uint16_t* odd = k + 1 < rows ? src + (k + 1) * src_ld : nullptr;
    for (int64_t n = 0; n < cols; ++n) {
      out[2 * n] = even ? even[n] : 0;
      out[2 * n + 1] = odd ? odd[n] : 0;
    }
  }
}

void tile_product(const uint16_t* a, int64_t lda, const uint16_t* b, int64_t ldb, float* c, int64_t ldc, int64_t m,
                  int64_t n, int64_t k) {
  // AMX takes whole 16-row blocks over K in steps of 32; the rows past the last block go to
  // VDPBF16PS. Rows are independent, so the split changes no result.
  if (k % 32 == 0 && m >= 16 && cpu_has_amx_bf16()) {
    const int64_t amx_rows = m / 16 * 16;
    tile_product_amx(a, lda, b, ldb, c, ldc, amx_rows, n, k);
    a += amx_rows * lda;
    c += amx_rows * ldc;
    m -= amx_rows;
  }
  if (m > 0) tile_product_avx512(a, lda, b, ldb, c, ldc, m, n, k);
}

void tile_product_avx512(const uint16_t* a, int64_t lda, const uint16_t* b, int64_t ldb, float* c, int64_t ldc,
                         int64_t m, int64_t n, int64_t k) {
  int64_t col = 0;
  for (; col + 64 <= n; col += 64) column_strip<4>(a, lda, b + 2 * col, ldb, c + col, ldc, m, k);
  for (; col < n; col += 16) column_strip<1>(a, lda, b + 2 * col, ldb, c + col, ldc, m, k);
}

BITNET_AVX512_BF16 float row_max(const float* x, int64_t n) {
  __m512 best = _mm512_set1_ps(-__builtin_inff());
  for (int64_t j = 0; j < n; j += 16) best = _mm512_max_ps(best, _mm512_loadu_ps(x + j));
  return _mm512_reduce_max_ps(best);
}

BITNET_AVX512_BF16 float exp_row(const float* s, int64_t n, float scale, float shift, uint16_t* p) {
  const __m512 vscale = _mm512_set1_ps(scale), vshift = _mm512_set1_ps(shift);
  __m512 sum = _mm512_setzero_ps();
  for (int64_t j = 0; j < n; j += 16) {
    const __m512 e = exp16(_mm512_fmsub_ps(_mm512_loadu_ps(s + j), vscale, vshift));
    sum = _mm512_add_ps(sum, e);
    store_bf16(p + j, e);
  }
  return _mm512_reduce_add_ps(sum);
}

BITNET_AVX512_BF16 void softmax_grad_row(const float* s, const float* dp, int64_t n, float scale, float lse,
                                         float delta, uint16_t* p_bf16, uint16_t* ds) {
  const __m512 vscale = _mm512_set1_ps(scale), vlse = _mm512_set1_ps(lse), vdelta = _mm512_set1_ps(delta);
  for (int64_t j = 0; j < n; j += 16) {
    const __m512 p = exp16(_mm512_fmsub_ps(_mm512_loadu_ps(s + j), vscale, vlse));
    store_bf16(p_bf16 + j, p);
    const __m512 g = _mm512_mul_ps(_mm512_mul_ps(p, _mm512_sub_ps(_mm512_loadu_ps(dp + j), vdelta)), vscale);
    store_bf16(ds + j, g);
  }
}

void transpose(const uint16_t* src, int64_t src_ld, int64_t m, int64_t n, int64_t padded_m, uint16_t* dst,
               int64_t dst_ld) {
  const int64_t m8 = m / 8 * 8, n8 = n / 8 * 8;
  for (int64_t i = 0; i < m8; i += 8)
    for (int64_t j = 0; j < n8; j += 8) transpose8x8(src + i * src_ld + j, src_ld, dst + j * dst_ld + i, dst_ld);
  // What the 8 x 8 blocks left: the last m % 8 rows of src, its last n % 8 columns, the padding.
  for (int64_t j = 0; j < n; ++j) {
    uint16_t* row = dst + j * dst_ld;
    for (int64_t i = j < n8 ? m8 : 0; i < m; ++i) row[i] = src[i * src_ld + j];
    std::fill(row + m, row + padded_m, uint16_t{0});
  }
}

}  // namespace bitnet::attention_tiles
