// llama.cpp's Q8_0 block quantization (we use it for token embeddings in GGUF exports).
// A block is 32 floats -> fp16 d = amax / 127, then 32 int8 q = roundf(x * (1/d)) (ties away
// from zero; 1/d is taken from the fp32 d before it is narrowed), 34 bytes per block.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace bitnet::formats {

inline constexpr int64_t kQ8Block = 32;
inline constexpr size_t kQ8BlockBytes = 34;

size_t q8_0_bytes(int64_t n);  // n % 32 == 0, else FormatError
std::vector<uint8_t> quantize_q8_0(const float* x, int64_t n);
// out[i] = q[i] * d (d widened from fp16). nbytes must equal q8_0_bytes(n).
void dequantize_q8_0(const uint8_t* packed, size_t nbytes, int64_t n, float* out);

}  // namespace bitnet::formats
