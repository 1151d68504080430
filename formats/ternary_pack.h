// Ternary weight packings: llama.cpp's TQ2_0 and TQ1_0 blocks and the Hugging Face packed BitNet
// uint8 layout. Inputs and outputs are int8 trits in {-1, 0, 1}, row-major [rows, cols].
//
// TQ formats pack along each row in blocks of 256 weights, so cols must be a multiple of 256.
// Our packers always write the block scale d = 1.0 (fp16 0x3C00): the exact per-tensor scale
// travels separately (GGUF "<name>.scale" or safetensors "weight_scale"). Byte layouts are in
// docs/formats.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace bitnet::formats {

inline constexpr int64_t kTernaryBlock = 256;  // weights per TQ1_0 / TQ2_0 block
inline constexpr size_t kTq2BlockBytes = 66;   // 64 code bytes + fp16 d
inline constexpr size_t kTq1BlockBytes = 54;   // 48 qs + 4 qh + fp16 d

// Bytes of a packed [rows, cols] tensor; throw FormatError on bad sizes (cols % 256, overflow).
size_t tq2_0_bytes(int64_t rows, int64_t cols);
size_t tq1_0_bytes(int64_t rows, int64_t cols);
size_t hf_bitnet_bytes(int64_t rows, int64_t cols);  // rows % 4 == 0; result is [rows/4, cols]

// Packing. trits has rows*cols entries; any value outside {-1,0,1} throws FormatError.
std::vector<uint8_t> pack_tq2_0(const int8_t* trits, int64_t rows, int64_t cols);
std::vector<uint8_t> pack_tq1_0(const int8_t* trits, int64_t rows, int64_t cols);
std::vector<uint8_t> pack_hf_bitnet(const int8_t* trits, int64_t rows, int64_t cols);

// Unpacking into trits_out (rows*cols entries). nbytes must equal the *_bytes size. Invalid codes
// (TQ2_0 / HF code 3, a TQ1_0 byte no packer produces) throw FormatError. The TQ unpackers ignore
// d; pass block_scales to receive each block's d as float (rows*cols/256 values, row-major).
void unpack_tq2_0(const uint8_t* packed, size_t nbytes, int64_t rows, int64_t cols, int8_t* trits_out,
                  std::vector<float>* block_scales = nullptr);
void unpack_tq1_0(const uint8_t* packed, size_t nbytes, int64_t rows, int64_t cols, int8_t* trits_out,
                  std::vector<float>* block_scales = nullptr);
void unpack_hf_bitnet(const uint8_t* packed, size_t nbytes, int64_t rows, int64_t cols, int8_t* trits_out);

}  // namespace bitnet::formats
