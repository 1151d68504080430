// TokenTable: fp32 / fp16 / Q8_0 token tables, row lookup and the LM-head GEMV (see token_table.h
// for the exact summation order shared by the scalar and AVX2 paths).
#include "kernels/token_table.h"

#include <immintrin.h>

#include <cmath>
#include <cstring>
#include <string>

#include "formats/dtype.h"
#include "kernels/errors.h"
#include "kernels/model_ops.h"

namespace bitnet::kernels {
namespace {

constexpr int64_t kQ8Block = 32;
constexpr size_t kQ8BlockBytes = 34;

float reduce8(const float* a) {
  return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}

float q8_scale(const uint8_t* block) {
  uint16_t h;
  std::memcpy(&h, block, 2);
  return formats::half_to_float(h);
}

float dot_f16_scalar(const uint16_t* w, const float* x, int64_t n) {
  float acc[16] = {};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int k = 0; k < 16; ++k) acc[k] = std::fma(formats::half_to_float(w[i + k]), x[i + k], acc[k]);
  float pairs[8];
  for (int k = 0; k < 8; ++k) pairs[k] = acc[k] + acc[k + 8];
  float sum = reduce8(pairs);
  for (; i < n; ++i) sum = std::fma(formats::half_to_float(w[i]), x[i], sum);
  return sum;
}

float dot_q8_scalar(const uint8_t* row, const float* x, int64_t n) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (int64_t b = 0; b < n / kQ8Block; ++b) {
    const uint8_t* block = row + b * kQ8BlockBytes;
    const int8_t* q = reinterpret_cast<const int8_t*>(block + 2);
    const float* xb = x + b * kQ8Block;
    const float d = q8_scale(block);
    for (int k = 0; k < 8; ++k) {
      float s = 0.0f;
      for (int j = 0; j < kQ8Block; j += 8) s = std::fma(static_cast<float>(q[j + k]), xb[j + k], s);
      acc[k] = std::fma(d, s, acc[k]);
    }
  }
  return reduce8(acc);
}

__attribute__((target("avx2,fma,f16c"))) float hsum8(__m256 v) {
  alignas(32) float a[8];
  _mm256_store_ps(a, v);
  return reduce8(a);
}

// The AVX2 dots work on a tile of rows together: one row's sum is a single chain of dependent
// FMAs (latency-bound at a fraction of memory bandwidth), several rows' chains overlap. Each row's
// arithmetic is exactly the one-row order of token_table.h; the rows only share the loads of x.
// A tile's rows are short streams (one row is a few KiB), too short for the hardware prefetcher
// to ramp up on, so each line read also prefetches the same line of the next tile's rows.
constexpr int kQ8RowsAtOnce = 8;
// F16 keeps two accumulators per row: 6 rows (12 accumulators, the two x vectors and a temporary)
// fit AVX2's 16 registers, where 8 rows spilled two accumulators to the stack in the inner loop
// (streaming the 2B4T head, the two measured the same within this machine's noise).
constexpr int kF16RowsAtOnce = 6;

// F16 keeps two chains per row (lanes 0-7 and 8-15 of token_table.h's 16): the loop then reads
// 32 bytes of each row per step. Against one chain per row: 28.6-29.1 -> 32.4-33.1 GB/s over the
// 656 MB 2B4T table in a standalone loop, 21.7-22.5 -> 20.8-21.0 ms per token inside decode.
template <int R>
__attribute__((target("avx2,fma,f16c"))) void dot_f16_avx2(const uint16_t* w, size_t row_elems, const float* x,
                                                           int64_t n, float* out) {
  __m256 lo[R], hi[R];
  for (int r = 0; r < R; ++r) lo[r] = hi[r] = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 x_lo = _mm256_loadu_ps(x + i), x_hi = _mm256_loadu_ps(x + i + 8);
    if ((i & 31) == 0) {  // once per 64-byte line of each row: the same line of the next R rows
      for (int r = 0; r < R; ++r) _mm_prefetch(reinterpret_cast<const char*>(w + (r + R) * row_elems + i), _MM_HINT_T0);
    }
    for (int r = 0; r < R; ++r) {
      const uint16_t* p = w + r * row_elems + i;
      lo[r] = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))), x_lo, lo[r]);
      hi[r] = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 8))), x_hi, hi[r]);
    }
  }
  for (int r = 0; r < R; ++r) {
    float sum = hsum8(_mm256_add_ps(lo[r], hi[r]));
    for (int64_t j = i; j < n; ++j) sum = std::fma(formats::half_to_float(w[r * row_elems + j]), x[j], sum);
    out[r] = sum;
  }
}

template <int R>
__attribute__((target("avx2,fma,f16c"))) void dot_q8_avx2(const uint8_t* rows, size_t row_bytes, const float* x,
                                                          int64_t n, float* out) {
  __m256 acc[R];
  for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
  const int64_t n_blocks = n / kQ8Block;
  for (int64_t b = 0; b < n_blocks; ++b) {
    const float* xb = x + b * kQ8Block;
    const __m256 x0 = _mm256_loadu_ps(xb), x1 = _mm256_loadu_ps(xb + 8);
    const __m256 x2 = _mm256_loadu_ps(xb + 16), x3 = _mm256_loadu_ps(xb + 24);
    for (int r = 0; r < R; ++r) {
      const uint8_t* block = rows + r * row_bytes + b * kQ8BlockBytes;
      _mm_prefetch(reinterpret_cast<const char*>(block + R * row_bytes), _MM_HINT_T0);  // next tile, as for F16
      uint16_t h;
      std::memcpy(&h, block, 2);
      const __m256 d = _mm256_cvtph_ps(_mm_cvtsi32_si128(h));
      const __m128i q0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 2));
      const __m128i q1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 18));
      __m256 s = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q0)), x0);
      s = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(q0, 8))), x1, s);
      s = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q1)), x2, s);
      s = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(q1, 8))), x3, s);
      acc[r] = _mm256_fmadd_ps(_mm256_permutevar8x32_ps(d, _mm256_setzero_si256()), s, acc[r]);
    }
  }
  for (int r = 0; r < R; ++r) out[r] = hsum8(acc[r]);
}

bool cpu_has_avx2_fma_f16c() {
  const CpuFeatures f = detect_cpu_features();  // queried once per process
  return f.avx2 && f.fma && f.f16c;
}

}  // namespace

const char* token_table_type_name(TokenTable::Type type) {
  switch (type) {
    case TokenTable::Type::f32:
      return "f32";
    case TokenTable::Type::f16:
      return "f16";
    case TokenTable::Type::q8_0:
      return "q8_0";
  }
  return "?";
}

size_t token_table_bytes(TokenTable::Type type, int64_t rows, int64_t cols) {
  if (rows <= 0 || cols <= 0 || rows > (int64_t{1} << 40) / cols) {
    throw KernelError("token table: bad shape [" + std::to_string(rows) + ", " + std::to_string(cols) + "]");
  }
  const size_t n = static_cast<size_t>(rows * cols);
  switch (type) {
    case TokenTable::Type::f32:
      return n * 4;
    case TokenTable::Type::f16:
      return n * 2;
    case TokenTable::Type::q8_0:
      if (cols % kQ8Block != 0) {
        throw KernelError("token table: Q8_0 needs a row width that is a multiple of 32, found " +
                          std::to_string(cols));
      }
      return n / kQ8Block * kQ8BlockBytes;
  }
  throw KernelError("token table: unknown type");
}

TokenTable::TokenTable(Type type, int64_t rows, int64_t cols, const uint8_t* data, size_t nbytes)
    : type_(type), rows_(rows), cols_(cols) {
  const size_t want = token_table_bytes(type, rows, cols);
  if (nbytes != want) {
    throw KernelError(std::string("token table (") + token_table_type_name(type) + "): " + std::to_string(nbytes) +
                      " bytes, expected " + std::to_string(want));
  }
  data_.assign(data, data + nbytes);
}

void TokenTable::row(int64_t r, float* out) const {
  if (r < 0 || r >= rows_) throw KernelError("token table: row " + std::to_string(r) + " out of range");
  switch (type_) {
    case Type::f32:
      std::memcpy(out, data_.data() + static_cast<size_t>(r * cols_) * 4, static_cast<size_t>(cols_) * 4);
      return;
    case Type::f16: {
      const uint8_t* p = data_.data() + static_cast<size_t>(r * cols_) * 2;
      for (int64_t i = 0; i < cols_; ++i) {
        uint16_t h;
        std::memcpy(&h, p + 2 * i, 2);
        out[i] = formats::half_to_float(h);
      }
      return;
    }
    case Type::q8_0: {
      const uint8_t* p = data_.data() + static_cast<size_t>(r * (cols_ / kQ8Block)) * kQ8BlockBytes;
      for (int64_t b = 0; b < cols_ / kQ8Block; ++b) {
        const uint8_t* block = p + b * kQ8BlockBytes;
        const float d = q8_scale(block);
        for (int64_t j = 0; j < kQ8Block; ++j)
          out[b * kQ8Block + j] = static_cast<float>(static_cast<int8_t>(block[2 + j])) * d;
      }
      return;
    }
  }
}

void TokenTable::gemv(const float* x, float* out, ThreadPool* pool, KernelPath path) const {
  if (type_ == Type::f32) {
    ops::lm_head(reinterpret_cast<const float*>(data_.data()), x, rows_, cols_, out, pool);
    return;
  }
  const bool simd = path != KernelPath::scalar && cpu_has_avx2_fma_f16c();
  const size_t row_bytes =
      type_ == Type::f16 ? static_cast<size_t>(cols_) * 2 : static_cast<size_t>(cols_ / kQ8Block) * kQ8BlockBytes;
  const bool f16 = type_ == Type::f16;
  auto simd_rows = [&](int64_t r, int n_rows) {
    const uint8_t* p = data_.data() + static_cast<size_t>(r) * row_bytes;
    const auto* w = reinterpret_cast<const uint16_t*>(p);
    const size_t row_elems = row_bytes / 2;
    if (f16 && n_rows == kF16RowsAtOnce) {
      dot_f16_avx2<kF16RowsAtOnce>(w, row_elems, x, cols_, out + r);
    } else if (!f16 && n_rows == kQ8RowsAtOnce) {
      dot_q8_avx2<kQ8RowsAtOnce>(p, row_bytes, x, cols_, out + r);
    } else {
      f16 ? dot_f16_avx2<1>(w, row_elems, x, cols_, out + r) : dot_q8_avx2<1>(p, row_bytes, x, cols_, out + r);
    }
  };
  const int tile = f16 ? kF16RowsAtOnce : kQ8RowsAtOnce;
  auto rows = [&](int64_t begin, int64_t end) {
    if (simd) {
      int64_t r = begin;
      for (; r + tile <= end; r += tile) simd_rows(r, tile);
      for (; r < end; ++r) simd_rows(r, 1);
      return;
    }
    for (int64_t r = begin; r < end; ++r) {
      const uint8_t* p = data_.data() + static_cast<size_t>(r) * row_bytes;
      out[r] = f16 ? dot_f16_scalar(reinterpret_cast<const uint16_t*>(p), x, cols_) : dot_q8_scalar(p, x, cols_);
    }
  };
  if (pool == nullptr || pool->size() == 1) {
    rows(0, rows_);
  } else {
    pool->parallel_for(rows_, 8 * tile, rows);  // chunks of whole tiles
  }
}

}  // namespace bitnet::kernels
