// TokenTable: a [rows, cols] fp32 / fp16 / Q8_0 table used as the token embedding and the LM head
// (the embedding when tied). Exports store it in F16 or Q8_0 (llama.cpp blocks: 32 int8 values
// and one fp16 scale d, value = q * d), and keeping it compact here is what makes decode fast:
// for a 2B4T-shaped model the fp32 head alone is 1.3 GB of reads per token, Q8_0 is 0.35 GB.
//
// gemv numerics (x stays fp32; no activation quantization, so logits stay close to the training
// model's): each row is summed in lanes; lane k of the block/element loop accumulates with a
// fused multiply-add, and the lanes are reduced in a fixed tree:
//   F16 : 16 lanes, acc_k = fma(w[i + k], x[i + k], acc_k) over i = 0, 16, 32, ...; then
//         a_k = acc_k + acc_{k+8} for k < 8, and the n % 16 last elements follow the tree below
//         as one fma chain: sum = fma(w[j], x[j], sum)
//   Q8_0: 8 lanes, b_k = fma(q[j + k], x[j + k], b_k) over j = 0, 8, 16, 24 within a block (b_k
//         from 0), then a_k = fma(d, b_k, a_k) over blocks
//   sum = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7))
// The scalar reference computes exactly this with std::fma, so the AVX2 path equals it bit for
// bit (tests check). F32 tables use ops::lm_head.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/cpu_features.h"
#include "kernels/thread_pool.h"

namespace bitnet::kernels {

class TokenTable {
 public:
  enum class Type { f32, f16, q8_0 };

  TokenTable() = default;  // empty
  // `data` holds rows * cols values in `type`'s encoding (Q8_0: rows * cols/32 blocks of 34
  // bytes, cols % 32 == 0; F16: IEEE binary16 little-endian). Throws KernelError on bad sizes.
  TokenTable(Type type, int64_t rows, int64_t cols, const uint8_t* data, size_t nbytes);

  bool empty() const { return rows_ == 0; }
  Type type() const { return type_; }
  int64_t rows() const { return rows_; }
  int64_t cols() const { return cols_; }
  size_t nbytes() const { return data_.size(); }
  const uint8_t* data() const { return data_.data(); }

  void row(int64_t r, float* out) const;  // dequantizes one row (cols floats)
  // logits[r] = row_r . x for every row; `path` scalar is the reference, anything else uses AVX2
  // when the CPU has it (AVX2 + FMA + F16C).
  void gemv(const float* x, float* out, ThreadPool* pool, KernelPath path) const;

 private:
  Type type_ = Type::f32;
  int64_t rows_ = 0, cols_ = 0;
  std::vector<uint8_t> data_;
};

size_t token_table_bytes(TokenTable::Type type, int64_t rows, int64_t cols);  // throws KernelError
const char* token_table_type_name(TokenTable::Type type);                     // "f32", "f16", "q8_0"

}  // namespace bitnet::kernels
