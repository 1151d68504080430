// Internal interface between TernaryMatrix and its per-ISA kernels (not part of the public API).
// Every kernel computes, for rows [row_begin, row_end) and tokens [0, n_tok):
//   acc[t * acc_stride + o] = sum_i trit[o, i] * q[t][i]
// from the packed layout documented in ternary_matrix.h. Activations arrive padded with zeros to
// cols_padded (and, for AVX-512, permuted by prepare_activations_avx512); sumq[t] = sum_i q[t][i].
#pragma once

#include <cstdint>

namespace bitnet::kernels::detail {

struct PackedWeights {
  const uint8_t* data;
  int64_t rows;
  int64_t cols_padded;
  int64_t row_bytes;
};

struct Activations {
  const int8_t* q;      // [n_tok, cols_padded]
  const int32_t* sumq;  // [n_tok]
  int n_tok;
};

void ternary_rows_scalar(const PackedWeights& w, const Activations& a, int64_t row_begin, int64_t row_end, int32_t* acc,
                         int64_t acc_stride);
void ternary_rows_avx2(const PackedWeights& w, const Activations& a, int64_t row_begin, int64_t row_end, int32_t* acc,
                       int64_t acc_stride);
void ternary_rows_avx512(const PackedWeights& w, const Activations& a, int64_t row_begin, int64_t row_end, int32_t* acc,
                         int64_t acc_stride);

// Reorders one padded row in place-free fashion (src -> dst, cols_padded a multiple of 256) so that
// dst[256 k + 64 n + 32 h + m] = src[256 k + 128 h + 32 n + m]: the lane order of a 64-byte load
// of two consecutive 128-column weight blocks shifted by 2n.
void permute_for_avx512(const int8_t* src, int64_t cols_padded, int8_t* dst);

}  // namespace bitnet::kernels::detail
