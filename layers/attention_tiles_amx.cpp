// The tile product of the CPU bf16 flash attention on AMX (see attention_tiles.h). The packed
// right operand that VDPBF16PS reads (K in pairs, the pair of each column side by side) is the
// layout AMX's TDPBF16PS reads, so the same packing serves both. The function carries its target
// in an attribute; callers pick it by cpu_has_amx_bf16().
#include <sys/syscall.h>
#include <unistd.h>

#include <cpuid.h>
#include <immintrin.h>

#include "layers/attention_tiles.h"

namespace bitnet::attention_tiles {

namespace {

// Linux hands a process AMX's tile data state only on request (arch_prctl, since 5.16).
constexpr int kArchRequestXcompPerm = 0x1023;
constexpr int kXfeatureTileData = 18;

bool cpu_reports_amx_bf16() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return false;
  const bool amx_bf16 = (edx >> 22) & 1u, amx_tile = (edx >> 24) & 1u;
  return amx_bf16 && amx_tile;
}

// The 64-byte operand of LDTILECFG: palette 1, then bytes per row and rows of each tile.
struct alignas(64) TileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t bytes_per_row[16] = {};
  uint8_t rows[16] = {};
};
static_assert(sizeof(TileConfig) == 64);

// Tiles 0-3 hold C (2 x 2 blocks of 16 x 16 fp32), 4-5 two 16 x 32 blocks of A, 6-7 two 16-pair
// blocks of packed B: every tile is 16 rows of 64 bytes.
TileConfig full_tiles() {
  TileConfig config;
  for (int t = 0; t < 8; ++t) {
    config.bytes_per_row[t] = 64;
    config.rows[t] = 16;
  }
  return config;
}

#define BITNET_AMX __attribute__((target("amx-tile,amx-bf16")))

// C[16 MB x 16 NB] at c += A[16 MB x k] at a * B[k x 16 NB] at b (packed): MB, NB in {1, 2}. Strides in
// bytes, as the tile loads take them.
template <int MB, int NB>
BITNET_AMX void block(const uint16_t* a, int64_t a_stride, const uint16_t* b, int64_t b_stride, float* c,
                      int64_t c_stride, int64_t k) {
  auto c_at = [&](int i, int j) { return reinterpret_cast<char*>(c) + i * 16 * c_stride + j * 64; };
  _tile_loadd(0, c_at(0, 0), c_stride);
  if constexpr (NB == 2) _tile_loadd(1, c_at(0, 1), c_stride);
  if constexpr (MB == 2) _tile_loadd(2, c_at(1, 0), c_stride);
  if constexpr (MB == 2 && NB == 2) _tile_loadd(3, c_at(1, 1), c_stride);
  for (int64_t k0 = 0; k0 < k; k0 += 32) {
    const char* a_k = reinterpret_cast<const char*>(a + k0);
    const char* b_k = reinterpret_cast<const char*>(b) + (k0 / 2) * b_stride;
    _tile_loadd(4, a_k, a_stride);
    if constexpr (MB == 2) _tile_loadd(5, a_k + 16 * a_stride, a_stride);
    _tile_loadd(6, b_k, b_stride);
    if constexpr (NB == 2) _tile_loadd(7, b_k + 64, b_stride);
    _tile_dpbf16ps(0, 4, 6);
    if constexpr (NB == 2) _tile_dpbf16ps(1, 4, 7);
    if constexpr (MB == 2) _tile_dpbf16ps(2, 5, 6);
    if constexpr (MB == 2 && NB == 2) _tile_dpbf16ps(3, 5, 7);
  }
  _tile_stored(0, c_at(0, 0), c_stride);
  if constexpr (NB == 2) _tile_stored(1, c_at(0, 1), c_stride);
  if constexpr (MB == 2) _tile_stored(2, c_at(1, 0), c_stride);
  if constexpr (MB == 2 && NB == 2) _tile_stored(3, c_at(1, 1), c_stride);
}

template <int MB>
BITNET_AMX void row_strip(const uint16_t* a, int64_t lda, const uint16_t* b, int64_t ldb, float* c, int64_t ldc,
                          int64_t n, int64_t k) {
  const int64_t a_stride = 2 * lda, b_stride = 4 * ldb, c_stride = 4 * ldc;
  int64_t col = 0;
  for (; col + 32 <= n; col += 32) block<MB, 2>(a, a_stride, b + 2 * col, b_stride, c + col, c_stride, k);
  for (; col < n; col += 16) block<MB, 1>(a, a_stride, b + 2 * col, b_stride, c + col, c_stride, k);
}

}  // namespace

bool cpu_has_amx_bf16() {
  static const bool usable =
      cpu_reports_amx_bf16() && syscall(SYS_arch_prctl, kArchRequestXcompPerm, kXfeatureTileData) == 0;
  return usable;
}

BITNET_AMX void tile_product_amx(const uint16_t* a, int64_t lda, const uint16_t* b, int64_t ldb, float* c, int64_t ldc,
                                 int64_t m, int64_t n, int64_t k) {
  // The configuration is loaded on every call: other code on this thread (oneDNN's AMX matmuls)
  // loads its own between our calls.
  static const TileConfig config = full_tiles();
  _tile_loadconfig(&config);
  int64_t row = 0;
  for (; row + 32 <= m; row += 32) row_strip<2>(a + row * lda, lda, b, ldb, c + row * ldc, ldc, n, k);
  for (; row < m; row += 16) row_strip<1>(a + row * lda, lda, b, ldb, c + row * ldc, ldc, n, k);
  _tile_release();
}

}  // namespace bitnet::attention_tiles
