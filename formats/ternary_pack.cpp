// TQ2_0, TQ1_0 and HF-packed BitNet packers/unpackers (layouts documented in docs/formats.md).
// Written from the format definitions; the tests check them against hand-computed bytes.
#include "formats/ternary_pack.h"

#include <array>
#include <string>

#include "formats/dtype.h"
#include "formats/error.h"
#include "formats/file_io.h"

namespace bitnet::formats {

namespace {

constexpr uint16_t kHalfOne = 0x3C00;  // fp16 1.0, the d our packers write

// A TQ1_0 byte stores a base-3 number v (< 243) as ceil(v * 256 / 243), which puts the leading
// trit in the top of the byte: trit k is recovered as ((byte * 3^k) mod 256) * 3 >> 8.
constexpr uint8_t encode_base3(unsigned v) {
  return static_cast<uint8_t>((v * 256 + 242) / 243);
}

constexpr int decode_trit(uint8_t byte, int k) {
  unsigned q = byte;
  for (int i = 0; i < k; ++i) q = (q * 3) & 0xFF;
  return static_cast<int>((q * 3) >> 8);  // 0, 1 or 2
}

// Which of the 256 byte values a packer can produce (v = 0..242), so unpacking can reject others.
constexpr std::array<bool, 256> make_valid_base3() {
  std::array<bool, 256> valid{};
  for (unsigned v = 0; v < 243; ++v) valid[encode_base3(v)] = true;
  return valid;
}
constexpr std::array<bool, 256> kValidBase3 = make_valid_base3();

uint64_t element_count(const char* format, int64_t rows, int64_t cols) {
  uint64_t n = 0;
  if (rows < 0 || cols < 0 || !checked_mul(static_cast<uint64_t>(rows), static_cast<uint64_t>(cols), &n))
    throw FormatError(std::string(format) + ": bad shape [" + std::to_string(rows) + ", " + std::to_string(cols) + "]");
  return n;
}

void require_block_multiple(const char* format, int64_t cols) {
  if (cols % kTernaryBlock != 0)
    throw FormatError(std::string(format) + " packs rows in blocks of 256: the row length (input width) " +
                      std::to_string(cols) + " is not a multiple of 256");
}

void check_size(const char* format, size_t nbytes, size_t expected) {
  if (nbytes != expected)
    throw FormatError(std::string(format) + " data size mismatch: expected " + std::to_string(expected) +
                      " bytes, found " + std::to_string(nbytes));
}

uint8_t code_of(const char* format, const int8_t* trits, uint64_t index) {
  const int8_t t = trits[index];
  if (t < -1 || t > 1)
    throw FormatError(std::string(format) + ": weight " + std::to_string(index) + " is " + std::to_string(t) +
                      ", expected -1, 0 or 1");
  return static_cast<uint8_t>(t + 1);
}

void put_half_one(uint8_t* p) {
  p[0] = static_cast<uint8_t>(kHalfOne & 0xFF);
  p[1] = static_cast<uint8_t>(kHalfOne >> 8);
}

}  // namespace

size_t tq2_0_bytes(int64_t rows, int64_t cols) {
  const uint64_t n = element_count("TQ2_0", rows, cols);
  require_block_multiple("TQ2_0", cols);
  return static_cast<size_t>(n / kTernaryBlock * kTq2BlockBytes);
}

size_t tq1_0_bytes(int64_t rows, int64_t cols) {
  const uint64_t n = element_count("TQ1_0", rows, cols);
  require_block_multiple("TQ1_0", cols);
  return static_cast<size_t>(n / kTernaryBlock * kTq1BlockBytes);
}

size_t hf_bitnet_bytes(int64_t rows, int64_t cols) {
  const uint64_t n = element_count("HF packed BitNet", rows, cols);
  if (rows % 4 != 0)
    throw FormatError("HF packed BitNet packs 4 output rows per byte: the output size " + std::to_string(rows) +
                      " is not a multiple of 4");
  return static_cast<size_t>(n / 4);
}

// TQ2_0 block: byte j*32 + m (j = 0, 1; m = 0..31) holds weights j*128 + n*32 + m in bits 2n..2n+1.
std::vector<uint8_t> pack_tq2_0(const int8_t* trits, int64_t rows, int64_t cols) {
  std::vector<uint8_t> out(tq2_0_bytes(rows, cols));
  const uint64_t blocks = static_cast<uint64_t>(rows) * static_cast<uint64_t>(cols) / kTernaryBlock;
  for (uint64_t b = 0; b < blocks; ++b) {
    uint8_t* block = out.data() + b * kTq2BlockBytes;
    const uint64_t base = b * kTernaryBlock;
    for (int j = 0; j < 2; ++j)
      for (int m = 0; m < 32; ++m) {
        uint8_t byte = 0;
        for (int n = 0; n < 4; ++n)
          byte |= static_cast<uint8_t>(code_of("TQ2_0", trits, base + j * 128 + n * 32 + m) << (2 * n));
        block[j * 32 + m] = byte;
      }
    put_half_one(block + 64);
  }
  return out;
}

void unpack_tq2_0(const uint8_t* packed, size_t nbytes, int64_t rows, int64_t cols, int8_t* trits_out,
                  std::vector<float>* block_scales) {
  check_size("TQ2_0", nbytes, tq2_0_bytes(rows, cols));
  const uint64_t blocks = nbytes / kTq2BlockBytes;
  if (block_scales) block_scales->resize(blocks);
  for (uint64_t b = 0; b < blocks; ++b) {
    const uint8_t* block = packed + b * kTq2BlockBytes;
    const uint64_t base = b * kTernaryBlock;
    for (int j = 0; j < 2; ++j)
      for (int m = 0; m < 32; ++m)
        for (int n = 0; n < 4; ++n) {
          const int code = (block[j * 32 + m] >> (2 * n)) & 3;
          if (code == 3)
            throw FormatError("TQ2_0: invalid 2-bit code 3 in block " + std::to_string(b) + " byte " +
                              std::to_string(j * 32 + m));
          trits_out[base + j * 128 + n * 32 + m] = static_cast<int8_t>(code - 1);
        }
    if (block_scales) (*block_scales)[b] = half_to_float(load_u16_le(block + 64));
  }
}

// TQ1_0 block (256 weights, 54 bytes):
//   qs[0..31]:  byte m holds weights m + 32n,        n = 0..4 (n = 0 is the leading trit)
//   qs[32..47]: byte 32+m holds weights 160 + m + 16n, n = 0..4
//   qh[0..3]:   byte j holds weights 240 + j + 4n,    n = 0..3, then a zero fifth trit
//   d:          fp16
std::vector<uint8_t> pack_tq1_0(const int8_t* trits, int64_t rows, int64_t cols) {
  std::vector<uint8_t> out(tq1_0_bytes(rows, cols));
  const uint64_t blocks = static_cast<uint64_t>(rows) * static_cast<uint64_t>(cols) / kTernaryBlock;
  for (uint64_t b = 0; b < blocks; ++b) {
    uint8_t* block = out.data() + b * kTq1BlockBytes;
    const uint64_t base = b * kTernaryBlock;
    auto digits = [&](uint64_t first, int stride, int count) {
      unsigned v = 0;
      for (int n = 0; n < count; ++n) v = v * 3 + code_of("TQ1_0", trits, base + first + n * stride);
      return v;
    };
    for (int m = 0; m < 32; ++m) block[m] = encode_base3(digits(m, 32, 5));
    for (int m = 0; m < 16; ++m) block[32 + m] = encode_base3(digits(160 + m, 16, 5));
    for (int j = 0; j < 4; ++j) block[48 + j] = encode_base3(digits(240 + j, 4, 4) * 3);
    put_half_one(block + 52);
  }
  return out;
}

void unpack_tq1_0(const uint8_t* packed, size_t nbytes, int64_t rows, int64_t cols, int8_t* trits_out,
                  std::vector<float>* block_scales) {
  check_size("TQ1_0", nbytes, tq1_0_bytes(rows, cols));
  const uint64_t blocks = nbytes / kTq1BlockBytes;
  if (block_scales) block_scales->resize(blocks);
  for (uint64_t b = 0; b < blocks; ++b) {
    const uint8_t* block = packed + b * kTq1BlockBytes;
    const uint64_t base = b * kTernaryBlock;
    for (int i = 0; i < 52; ++i) {
      const bool valid = kValidBase3[block[i]] && (i < 48 || decode_trit(block[i], 4) == 0);
      if (!valid)
        throw FormatError("TQ1_0: byte " + std::to_string(i) + " of block " + std::to_string(b) + " is " +
                          std::to_string(block[i]) + ", which no TQ1_0 packer produces");
    }
    auto spread = [&](uint8_t byte, uint64_t first, int stride, int count) {
      for (int n = 0; n < count; ++n)
        trits_out[base + first + n * stride] = static_cast<int8_t>(decode_trit(byte, n) - 1);
    };
    for (int m = 0; m < 32; ++m) spread(block[m], m, 32, 5);
    for (int m = 0; m < 16; ++m) spread(block[32 + m], 160 + m, 16, 5);
    for (int j = 0; j < 4; ++j) spread(block[48 + j], 240 + j, 4, 4);
    if (block_scales) (*block_scales)[b] = half_to_float(load_u16_le(block + 52));
  }
}

// HF packed BitNet: packed is [rows/4, cols]; bits 2i..2i+1 of packed[r, c] hold W[i*R + r, c] + 1,
// R = rows/4 (four blocks of R output rows share one byte).
std::vector<uint8_t> pack_hf_bitnet(const int8_t* trits, int64_t rows, int64_t cols) {
  std::vector<uint8_t> out(hf_bitnet_bytes(rows, cols));
  const uint64_t r_count = static_cast<uint64_t>(rows) / 4, c_count = static_cast<uint64_t>(cols);
  for (uint64_t r = 0; r < r_count; ++r)
    for (uint64_t c = 0; c < c_count; ++c) {
      uint8_t byte = 0;
      for (uint64_t i = 0; i < 4; ++i)
        byte |= static_cast<uint8_t>(code_of("HF packed BitNet", trits, (i * r_count + r) * c_count + c) << (2 * i));
      out[r * c_count + c] = byte;
    }
  return out;
}

void unpack_hf_bitnet(const uint8_t* packed, size_t nbytes, int64_t rows, int64_t cols, int8_t* trits_out) {
  check_size("HF packed BitNet", nbytes, hf_bitnet_bytes(rows, cols));
  const uint64_t r_count = static_cast<uint64_t>(rows) / 4, c_count = static_cast<uint64_t>(cols);
  for (uint64_t r = 0; r < r_count; ++r)
    for (uint64_t c = 0; c < c_count; ++c) {
      const uint8_t byte = packed[r * c_count + c];
      for (uint64_t i = 0; i < 4; ++i) {
        const int code = (byte >> (2 * i)) & 3;
        if (code == 3)
          throw FormatError("HF packed BitNet: invalid 2-bit code 3 at packed[" + std::to_string(r) + ", " +
                            std::to_string(c) + "] bits " + std::to_string(2 * i));
        trits_out[(i * r_count + r) * c_count + c] = static_cast<int8_t>(code - 1);
      }
    }
}

}  // namespace bitnet::formats
