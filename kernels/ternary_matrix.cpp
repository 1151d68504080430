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

constexpr int64_t kRowGrain = 4;                // kernels process up to 4 rows at once; keep splits aligned
constexpr int64_t kMaxCols = int64_t{1} << 23;  // keeps 128 * cols below 2^31 (int32 exact)

using RowKernel = void (*)(const detail::PackedWeights&, const detail::Activations&, int64_t, int64_t, int32_t*,
                           int64_t);

RowKernel kernel_for(KernelPath path) {
  switch (path) {
    case KernelPath::avx2:
      return detail::ternary_rows_avx2;
    case KernelPath::avx512:
      return detail::ternary_rows_avx512;
    case KernelPath::scalar:
      break;
  }
  return detail::ternary_rows_scalar;
}

}  // namespace

TernaryMatrix::TernaryMatrix(const int8_t* trits, int64_t rows, int64_t cols, float w_scale)
    : TernaryMatrix(trits, rows, cols, w_scale, select_kernel_path()) {}

TernaryMatrix::TernaryMatrix(const int8_t* trits, int64_t rows, int64_t cols, float w_scale, KernelPath path)
    : rows_(rows), cols_(cols), w_scale_(w_scale) {
  if (rows < 0 || cols < 0 || cols > kMaxCols || (rows > 0 && cols > 0 && trits == nullptr)) {
    throw KernelError("TernaryMatrix: invalid shape [" + std::to_string(rows) + ", " + std::to_string(cols) +
                      "] (need rows >= 0, 0 <= cols <= 2^23, data)");
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
        throw KernelError("TernaryMatrix: value " + std::to_string(int{t}) + " at [" + std::to_string(r) + ", " +
                          std::to_string(c) + "] is not a trit (expected -1, 0 or 1)");
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
                      "' is not supported by this CPU (" + describe_cpu_features(detect_cpu_features()) + ")");
  }
  path_ = path;
}

int8_t TernaryMatrix::trit(int64_t row, int64_t col) const {
  if (row < 0 || row >= rows_ || col < 0 || col >= cols_) {
    throw KernelError("TernaryMatrix::trit: index [" + std::to_string(row) + ", " + std::to_string(col) +
                      "] outside [" + std::to_string(rows_) + ", " + std::to_string(cols_) + "]");
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
  const GroupItem item{this, acc};
  gemm_group(&item, 1, q, n_tok, pool);
}

void TernaryMatrix::gemm_group(const GroupItem* items, int n_items, const int8_t* q, int n_tok, ThreadPool* pool) {
  if (n_items <= 0 || n_tok <= 0) return;
  const TernaryMatrix& first = *items[0].matrix;
  const int64_t cols = first.cols_, cols_padded = first.cols_padded_;
  const KernelPath path = first.path_;
  int64_t total_rows = 0;
  for (int i = 0; i < n_items; ++i) {
    const TernaryMatrix& m = *items[i].matrix;
    if (m.cols_ != cols || m.path_ != path) {
      throw KernelError("TernaryMatrix::gemm_group: matrix " + std::to_string(i) + " has " + std::to_string(m.cols_) +
                        " columns and path " + kernel_path_name(m.path_) + ", the first has " + std::to_string(cols) +
                        " and " + kernel_path_name(path));
    }
    total_rows += m.rows_;
  }
  if (total_rows == 0) return;
  if (cols == 0) {
    for (int i = 0; i < n_items; ++i)
      std::fill(items[i].acc, items[i].acc + static_cast<int64_t>(n_tok) * items[i].matrix->rows_, 0);
    return;
  }
  // Zero-padded (and for AVX-512 permuted) copy of the activations plus per-token sums.
  std::vector<int8_t, AlignedAllocator<int8_t>> qpad(static_cast<size_t>(n_tok * cols_padded));
  std::vector<int8_t> row(static_cast<size_t>(cols_padded));
  std::vector<int32_t> sumq(static_cast<size_t>(n_tok));
  for (int t = 0; t < n_tok; ++t) {
    const int8_t* src = q + static_cast<int64_t>(t) * cols;
    int8_t* dst = qpad.data() + static_cast<int64_t>(t) * cols_padded;
    int32_t s = 0;
    for (int64_t i = 0; i < cols; ++i) s += src[i];
    sumq[t] = s;
    if (path == KernelPath::avx512) {
      std::memcpy(row.data(), src, static_cast<size_t>(cols));
      std::memset(row.data() + cols, 0, static_cast<size_t>(cols_padded - cols));
      detail::permute_for_avx512(row.data(), cols_padded, dst);
    } else {
      std::memcpy(dst, src, static_cast<size_t>(cols));
      std::memset(dst + cols, 0, static_cast<size_t>(cols_padded - cols));
    }
  }
  const detail::Activations a{qpad.data(), sumq.data(), n_tok};
  const RowKernel kernel = kernel_for(path);
  // Rows [b, e) of the matrices' rows laid end to end.
  auto run_rows = [&](int64_t b, int64_t e) {
    int64_t base = 0;
    for (int i = 0; i < n_items && base < e; ++i) {
      const TernaryMatrix& m = *items[i].matrix;
      const int64_t r0 = std::max(b, base) - base, r1 = std::min(e, base + m.rows_) - base;
      if (r0 < r1) {
        const detail::PackedWeights w{m.packed_.data(), m.rows_, m.cols_padded_, m.row_bytes()};
        kernel(w, a, r0, r1, items[i].acc, m.rows_);
      }
      base += m.rows_;
    }
  };
  if (pool == nullptr || pool->size() == 1) {
    run_rows(0, total_rows);
  } else {
    pool->parallel_for(total_rows, kRowGrain, run_rows);
  }
}

}  // namespace bitnet::kernels
