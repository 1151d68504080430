// Scalar reference kernel: decodes every 2-bit code back to a trit and multiplies-accumulates
// t * q directly (it does not use the c = t + 1 / sum(q) trick of the SIMD paths, so it checks
// them independently). Also the activation permutation used by the AVX-512 path.
#include <cstdint>

#include "kernels/ternary_kernels.h"

namespace bitnet::kernels::detail {

void ternary_rows_scalar(const PackedWeights& w, const Activations& a, int64_t row_begin, int64_t row_end, int32_t* acc,
                         int64_t acc_stride) {
  const int64_t n_blocks = w.cols_padded / 128;
  for (int t = 0; t < a.n_tok; ++t) {
    const int8_t* q = a.q + t * w.cols_padded;
    for (int64_t r = row_begin; r < row_end; ++r) {
      const uint8_t* row = w.data + r * w.row_bytes;
      int32_t sum = 0;
      for (int64_t b = 0; b < n_blocks; ++b) {
        for (int m = 0; m < 32; ++m) {
          const unsigned byte = row[b * 32 + m];
          for (int n = 0; n < 4; ++n) {
            const int trit = static_cast<int>((byte >> (2 * n)) & 3u) - 1;
            sum += trit * q[b * 128 + 32 * n + m];
          }
        }
      }
      acc[t * acc_stride + r] = sum;
    }
  }
}

void permute_for_avx512(const int8_t* src, int64_t cols_padded, int8_t* dst) {
  for (int64_t k = 0; k < cols_padded; k += 256)
    for (int n = 0; n < 4; ++n)
      for (int h = 0; h < 2; ++h)
        for (int m = 0; m < 32; ++m) dst[k + 64 * n + 32 * h + m] = src[k + 128 * h + 32 * n + m];
}

}  // namespace bitnet::kernels::detail
