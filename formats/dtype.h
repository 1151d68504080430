// Element types shared by the safetensors and GGUF code, their safetensors names and sizes, and
// exact fp16/bf16 <-> fp32 conversions (round-to-nearest-even when narrowing).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace bitnet::formats {

enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL };

size_t dtype_size(DType dtype);                  // bytes per element
const char* dtype_name(DType dtype);             // safetensors spelling: "F32", "BF16", "BOOL", ...
DType dtype_from_name(const std::string& name);  // inverse of dtype_name; throws FormatError

// IEEE binary16. Narrowing rounds to nearest, ties to even; overflow gives +-inf; NaN stays NaN
// (quiet, sign kept).
float half_to_float(uint16_t h);
uint16_t float_to_half(float f);

// bfloat16 = the top 16 bits of a float. Narrowing rounds to nearest, ties to even; NaN stays NaN.
float bf16_to_float(uint16_t b);
uint16_t float_to_bf16(float f);

}  // namespace bitnet::formats
