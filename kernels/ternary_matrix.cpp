// Packing of trits into the 2-bit layout of ternary_matrix.h, activation preparation, and the
// row-split dispatch of GEMV/GEMM to the per-ISA kernels.
#include "kernels/ternary_matrix.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "kernels/errors.h"
#include "kernels/ternary_kernels.h"

namespace bitnet::kernels {
namespace {

constexpr int64_t kRowGrain = 4;  // kernels process up to 4 rows at once; keep splits aligned
constexpr int64_t kMaxCols = int64_t{1} << 23;  // keeps 128 * cols below 2^31 (int32 exact)

using RowKernel = void (*)(const detail::PackedWeights&, const detail::Activations&, int64_t,
                           int64_t, int32_t*, int64_t);

RowKernel kernel_for(KernelPath path) {
  switch (path) {
    case KernelPath::avx2: return detail::ternary_rows_avx2;
    case KernelPath::avx512: return detail::ternary_rows_avx512;
    case KernelPath::scalar: break;
  }
  return detail::ternary_rows_scalar;
}

}  // namespace

TernaryMatrix::TernaryMatrix(const int8_t* trits, int64_t rows, int64_t cols, float w_scale)
    : TernaryMatrix(trits, rows, cols, w_scale, select_kernel_path()) {}

TernaryMatrix::TernaryMatrix(const int8_t* trits, int64_t rows, int64_t cols, float w_scale,
                             KernelPath path)
    : rows_(rows), cols_(cols), w_scale_(w_scale) {
  if (rows < 0 || cols < 0 || cols > kMaxCols || (rows > 0 && cols > 0 && trits == nullptr)) {
    throw KernelError("TernaryMatrix: invalid shape [" + std::to_string(rows) + ", " +
                      std::to_string(cols) + "] (need rows >= 0, 0 <= cols <= 2^23, data)");
  }
  set_path(path);
  cols_padded_ = (cols + kColAlign - 1) / kColAlign * kColAlign;
  const int64_t rb = row_bytes();
  packed_.assign(static_cast<size_t>(rows * rb), 0x55);  // code 1 (t = 0) in every slot
  for (int64_t r = 0; r < rows; ++r) {
    uint8_t* dst = packed_.data() + r * rb;
    const int8_t* src = trits + r * cols;
    for (int64_t c = 0; c < cols; ++c) {
      const int8_t t = src[c];
      if (t < -1 || t > 1) {
        throw KernelError("TernaryMatrix: value " + std::to_string(int{t}) + " at [" +
                          std::to_string(r) + ", " + std::to_string(c) +
                          "] is not a trit (expected -1, 0 or 1)");
      }
      const int64_t block = c / 128, within = c % 128;
      const int64_t n = within / 32, m = within % 32;
      uint8_t& byte = dst[block * 32 + m];
      byte = static_cast<uint8_t>((byte & ~(3u << (2 * n))) | (unsigned(t + 1) << (2 * n)));
    }
  }
}

void TernaryMatrix::set_path(KernelPath path) {
  if (!kernel_path_available(path)) {
    throw KernelError(std::string("TernaryMatrix: kernel path '") + kernel_path_name(path) +
                      "' is not supported by this CPU (" +
                      describe_cpu_features(detect_cpu_features()) + ")");
  }
  path_ = path;
}

int8_t TernaryMatrix::trit(int64_t row, int64_t col) const {
  if (row < 0 || row >= rows_ || col < 0 || col >= cols_) {
    throw KernelError("TernaryMatrix::trit: index [" + std::to_string(row) + ", " +
                      std::to_string(col) + "] outside [" + std::to_string(rows_) + ", " +
                      std::to_string(cols_) + "]");
  }
  const int64_t block = col / 128, within = col % 128;
  const uint8_t byte = packed_[row * row_bytes() + block * 32 + within % 32];
  return static_cast<int8_t>(((byte >> (2 * (within / 32))) & 3) - 1);
}

std::vector<int8_t> TernaryMatrix::unpack() const {
  std::vector<int8_t> out(static_cast<size_t>(rows_ * cols_));
  for (int64_t r = 0; r < rows_; ++r)
    for (int64_t c = 0; c < cols_; ++c) out[r * cols_ + c] = trit(r, c);
  return out;
}

void TernaryMatrix::gemv(const int8_t* q, int32_t* acc, ThreadPool* pool) const {
  gemm(q, 1, acc, pool);
}

void TernaryMatrix::gemm(const int8_t* q, int n_tok, int32_t* acc, ThreadPool* pool) const {
  if (n_tok <= 0 || rows_ == 0) return;
  // Zero-padded (and for AVX-512 permuted) copy of the activations plus per-token sums.
  std::vector<int8_t, AlignedAllocator<int8_t>> qpad(static_cast<size_t>(n_tok * cols_padded_));
  std::vector<int8_t> row(static_cast<size_t>(cols_padded_));
  std::vector<int32_t> sumq(static_cast<size_t>(n_tok));
  for (int t = 0; t < n_tok; ++t) {
    const int8_t* src = q + static_cast<int64_t>(t) * cols_;
    int8_t* dst = qpad.data() + static_cast<int64_t>(t) * cols_padded_;
    int32_t s = 0;
    for (int64_t i = 0; i < cols_; ++i) s += src[i];
    sumq[t] = s;
    if (path_ == KernelPath::avx512) {
      std::memcpy(row.data(), src, static_cast<size_t>(cols_));
      std::memset(row.data() + cols_, 0, static_cast<size_t>(cols_padded_ - cols_));
      detail::permute_for_avx512(row.data(), cols_padded_, dst);
    } else {
      std::memcpy(dst, src, static_cast<size_t>(cols_));
      std::memset(dst + cols_, 0, static_cast<size_t>(cols_padded_ - cols_));
    }
  }
  if (cols_ == 0) {
    std::fill(acc, acc + static_cast<int64_t>(n_tok) * rows_, 0);
    return;
  }
  const detail::PackedWeights w{packed_.data(), rows_, cols_padded_, row_bytes()};
  const detail::Activations a{qpad.data(), sumq.data(), n_tok};
  const RowKernel kernel = kernel_for(path_);
  if (pool == nullptr || pool->size() == 1) {
    kernel(w, a, 0, rows_, acc, rows_);
    return;
  }
  pool->parallel_for(rows_, kRowGrain,
                     [&](int64_t b, int64_t e) { kernel(w, a, b, e, acc, rows_); });
}

}  // namespace bitnet::kernels
