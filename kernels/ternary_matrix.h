// TernaryMatrix: a [rows, cols] matrix of trits {-1, 0, +1} with one fp32 per-tensor scale,
// repacked at load for the int8 x ternary kernels (GEMV for decode, GEMM for prefill).
//
// Packed layout (one layout for every path, chosen so both SIMD paths unpack with a shift + AND):
//   * each trit t is stored as the 2-bit code c = t + 1 in {0, 1, 2};
//   * a row is padded with code 1 (t = 0) to cols_padded = round_up(cols, 256) and stored as
//     cols_padded / 4 bytes; rows are contiguous and each row starts 64-byte aligned;
//   * within a row, 128-column block b occupies bytes [32 b, 32 b + 32); byte 32 b + m holds
//     column 128 b + 32 n + m in bits 2n..2n+1 (n = 0..3).
//   This is the code order of llama.cpp's TQ2_0 blocks, so exports in that format unpack 1:1.
// Why: decode is memory-bound, so 2 bits per weight (4x less traffic than int8 trits) wins; with
// the codes in that order, shifting a 32-byte (AVX2) or 64-byte (AVX-512) load right by 2n and
// masking with 3 yields 32/64 consecutive-lane unsigned codes in one step, no shuffles. The
// unsigned codes feed VPMADDUBSW / VPDPBUSD (u8 x s8) directly, and since c = t + 1,
//   sum_i t_i q_i = sum_i c_i q_i - sum_i q_i,
// so one per-token correction makes the result exact. The AVX-512 path reads two 128-column blocks
// per 64-byte load, so it permutes the (small) activation vector once per call to match.
// Products are u8 {0,1,2} x s8, summed in int16 for at most 32 pair-sums (|sum| <= 16384) before
// widening, or directly by VPDPBUSD into int32: the int32 result is exact for cols < 2^23.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <new>
#include <vector>

#include "kernels/cpu_features.h"
#include "kernels/thread_pool.h"

namespace bitnet::kernels {

// 64-byte aligned allocator so SIMD rows start on cache lines.
template <typename T>
struct AlignedAllocator {
  using value_type = T;
  AlignedAllocator() = default;
  template <typename U>
  AlignedAllocator(const AlignedAllocator<U>&) {}
  T* allocate(std::size_t n) {
    const std::size_t bytes = ((n * sizeof(T) + 63) / 64) * 64;
    void* p = std::aligned_alloc(64, bytes == 0 ? 64 : bytes);
    if (p == nullptr) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t) { std::free(p); }
  template <typename U>
  bool operator==(const AlignedAllocator<U>&) const {
    return true;
  }
  template <typename U>
  bool operator!=(const AlignedAllocator<U>&) const {
    return false;
  }
};

class TernaryMatrix {
 public:
  static constexpr int64_t kColAlign = 256;

  TernaryMatrix() = default;  // empty 0 x 0 matrix
  // trits: row-major [rows, cols], every value in {-1, 0, 1} (else KernelError naming the first
  // bad index). path: the kernel gemv/gemm use (default: select_kernel_path()).
  TernaryMatrix(const int8_t* trits, int64_t rows, int64_t cols, float w_scale);
  TernaryMatrix(const int8_t* trits, int64_t rows, int64_t cols, float w_scale, KernelPath path);

  int64_t rows() const { return rows_; }
  int64_t cols() const { return cols_; }
  int64_t cols_padded() const { return cols_padded_; }
  float w_scale() const { return w_scale_; }
  KernelPath path() const { return path_; }
  void set_path(KernelPath path);  // throws KernelError if the CPU cannot run it
  const uint8_t* packed() const { return packed_.data(); }
  int64_t packed_bytes() const { return static_cast<int64_t>(packed_.size()); }
  int64_t row_bytes() const { return cols_padded_ / 4; }

  int8_t trit(int64_t row, int64_t col) const;  // unpacks one code (for verification)
  std::vector<int8_t> unpack() const;           // [rows, cols] trits

  // acc[o] = sum_i t[o, i] * q[i] (exact int32), q has cols() entries, acc rows() entries.
  void gemv(const int8_t* q, int32_t* acc, ThreadPool* pool = nullptr) const;
  // acc[t * rows + o] = sum_i t[o, i] * q[t * cols + i] for t in [0, n_tok).
  void gemm(const int8_t* q, int n_tok, int32_t* acc, ThreadPool* pool = nullptr) const;

  // One matrix of a shared-input group and where its result goes (acc as in gemm).
  struct GroupItem {
    const TernaryMatrix* matrix;
    int32_t* acc;
  };
  // gemm for several matrices with the same input (same cols and path, else KernelError): the
  // activations are prepared once and all their rows run as one pool job, so q/k/v (or gate/up)
  // cost one fork-join instead of three (two). Results are those of gemm, bit for bit.
  static void gemm_group(const GroupItem* items, int n_items, const int8_t* q, int n_tok, ThreadPool* pool = nullptr);

 private:
  int64_t rows_ = 0, cols_ = 0, cols_padded_ = 0;
  float w_scale_ = 1.0f;
  KernelPath path_ = KernelPath::scalar;
  std::vector<uint8_t, AlignedAllocator<uint8_t>> packed_;
};

}  // namespace bitnet::kernels
