// Per-token int8 activation quantization, bit-exact with the training model (docs/architecture.md):
//   absmax = max_j |x_j|;  s = 127.0f / max(absmax, 1e-5f);
//   q_j = clamp(round_half_even(x_j * s), -128, 127)      (all fp32; dequantized value q_j / s)
// and the matching fp32 rescale of an int32 ternary dot product.
#pragma once

#include <cstdint>

namespace bitnet::kernels {

// Quantizes one row x[0..n) into q[0..n) and returns the scale s. Rounding uses std::nearbyint
// under the default (round-to-nearest-even) mode, matching torch.round. A NaN element maps to
// -128 rather than being undefined behaviour; the training model would produce NaN there too.
// Uses AVX2 when the CPU has it; the result equals quantize_row_scalar's bit for bit.
float quantize_row(const float* x, int64_t n, int8_t* q);
float quantize_row_scalar(const float* x, int64_t n, int8_t* q);  // the reference

// n_tok rows of length n, row-major: q[t*n + j], scales[t].
void quantize_rows(const float* x, int64_t n_tok, int64_t n, int8_t* q, float* scales);

// y[o] = ((float)acc[o] / s) * w_scale for o in [0, rows): the division by the activation scale
// first, then the multiplication by the weight scale, both in fp32 (this exact order is part of
// the numerics contract with the export verifier).
void rescale_output(const int32_t* acc, int64_t rows, float s, float w_scale, float* y);

}  // namespace bitnet::kernels
