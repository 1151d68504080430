// Scalar per-token activation quantization (see quantize.h for the formula).
#include "kernels/quantize.h"

#include <algorithm>
#include <cmath>

namespace bitnet::kernels {

float quantize_row(const float* x, int64_t n, int8_t* q) {
  float absmax = 0.0f;
  for (int64_t j = 0; j < n; ++j) absmax = std::max(absmax, std::fabs(x[j]));
  const float s = 127.0f / std::max(absmax, 1e-5f);
  for (int64_t j = 0; j < n; ++j) {
    float v = std::nearbyint(x[j] * s);
    if (!(v > -128.0f)) v = -128.0f;  // also catches NaN
    if (v > 127.0f) v = 127.0f;
    q[j] = static_cast<int8_t>(v);
  }
  return s;
}

void quantize_rows(const float* x, int64_t n_tok, int64_t n, int8_t* q, float* scales) {
  for (int64_t t = 0; t < n_tok; ++t) scales[t] = quantize_row(x + t * n, n, q + t * n);
}

void rescale_output(const int32_t* acc, int64_t rows, float s, float w_scale, float* y) {
  for (int64_t o = 0; o < rows; ++o) y[o] = static_cast<float>(acc[o]) / s * w_scale;
}

}  // namespace bitnet::kernels
