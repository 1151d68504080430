// Tile operations of the CPU bf16 flash attention (cpu_flash_attention.cpp): a bf16 x bf16 -> fp32
// tile product on AVX512-BF16 (VDPBF16PS) or AMX, the packing it reads its right operand in, and the
// row operations of the softmax. Torch-free; bf16 values travel as their 16-bit patterns. Only
// call these where cpu_has_avx512_bf16() is true.
#pragma once

#include <cstdint>

namespace bitnet::attention_tiles {

bool cpu_has_avx512_bf16();

// The right operand B (K x N) of tile_product, packed as VDPBF16PS reads it: K in pairs, the pair
// of each column side by side. Element (k, n) is at packed[(k / 2) * 2 * ld + 2 * n + k % 2]; ld
// (>= N) is the packed row pitch in columns.
//
// pack_transposed: B = src^T, src an R x C row-major matrix (row pitch src_ld, C even): K = C,
// N = R. Columns n >= rows of src up to ld are zero.
void pack_transposed(const uint16_t* src, int64_t src_ld, int64_t rows, int64_t cols, uint16_t* packed, int64_t ld);
// pack_row_pairs: B = src, a K x N row-major matrix (row pitch src_ld) with `rows` valid rows;
// rows from `rows` up to padded_rows (even) are zero.
void pack_row_pairs(const uint16_t* src, int64_t src_ld, int64_t rows, int64_t padded_rows, int64_t cols,
                    uint16_t* packed, int64_t ld);

// True where the CPU has AMX with bf16 tiles and the kernel lets this process use them (Linux
// hands out the tile state on request; this asks once).
bool cpu_has_amx_bf16();

// c (M x N fp32, row pitch ldc) += a (M x K bf16, row pitch lda) * B (packed, pitch ldb).
// N a multiple of 16, K even; any M. Products of bf16 pairs accumulate in fp32: on AMX tiles
// (TDPBF16PS) where the CPU has them and K is a multiple of 32, else with VDPBF16PS. Both flush
// denormals; their orders of addition differ, so their sums may differ in the last bits.
void tile_product(const uint16_t* a, int64_t lda, const uint16_t* b, int64_t ldb, float* c, int64_t ldc, int64_t m,
                  int64_t n, int64_t k);
// The two paths of tile_product, callable on their own (the tests compare them). tile_product_amx
// needs cpu_has_amx_bf16(), M and N multiples of 16 and K a multiple of 32.
void tile_product_avx512(const uint16_t* a, int64_t lda, const uint16_t* b, int64_t ldb, float* c, int64_t ldc,
                         int64_t m, int64_t n, int64_t k);
void tile_product_amx(const uint16_t* a, int64_t lda, const uint16_t* b, int64_t ldb, float* c, int64_t ldc, int64_t m,
                      int64_t n, int64_t k);

// exp_row and softmax_grad_row give exactly 0 for exponents below this, just above ln(FLT_MIN) =
// -87.3365: e^x there would be denormal (slow to produce on x86, and flushed by the bf16 rounding).
constexpr float kExpLowest = -87.33f;

// The largest of x[0..n), n a multiple of 16.
float row_max(const float* x, int64_t n);
// p[j] = bf16(exp(s[j] * scale - shift)), and returns the sum of the unrounded exponentials;
// -inf in s gives exactly 0. n a multiple of 16.
float exp_row(const float* s, int64_t n, float scale, float shift, uint16_t* p);
// The softmax backward of one row: ds[j] = bf16(p[j] * (dp[j] - delta) * scale), with
// p[j] = exp(s[j] * scale - lse) recomputed from the scores, and p_bf16[j] = bf16(p[j]).
void softmax_grad_row(const float* s, const float* dp, int64_t n, float scale, float lse, float delta, uint16_t* p_bf16,
                      uint16_t* ds);
// dst[n x m] = src[m x n]^T, bf16; rows of dst padded with zeros from m to padded_m.
void transpose(const uint16_t* src, int64_t src_ld, int64_t m, int64_t n, int64_t padded_m, uint16_t* dst,
               int64_t dst_ld);

}  // namespace bitnet::attention_tiles
