// TernaryMatrix: packing round-trips, and every SIMD path's int32 results equal the scalar
// reference and a naive trit x int8 loop bit for bit, on odd shapes, for GEMV and GEMM, with and
// without threads.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "kernels/errors.h"
#include "kernels/ternary_matrix.h"
#include "kernels/thread_pool.h"

namespace bitnet::kernels {
namespace {

struct Shape {
  int64_t rows, cols;
};

const std::vector<Shape> kShapes = {{1, 1},   {3, 7},   {17, 255}, {33, 257}, {64, 1000},
                                    {5, 128}, {8, 256}, {9, 512},  {2, 129},  {6, 2560}};

std::vector<int8_t> random_trits(int64_t n, std::mt19937& rng) {
  std::uniform_int_distribution<int> d(-1, 1);
  std::vector<int8_t> t(static_cast<size_t>(n));
  for (auto& v : t) v = static_cast<int8_t>(d(rng));
  return t;
}

// Activations include the extremes -128 and 127 often, which stress the u8 x s8 tricks.
std::vector<int8_t> random_q(int64_t n, std::mt19937& rng) {
  std::uniform_int_distribution<int> d(-128, 127), pick(0, 9);
  std::vector<int8_t> q(static_cast<size_t>(n));
  for (auto& v : q) {
    const int k = pick(rng);
    v = static_cast<int8_t>(k == 0 ? -128 : k == 1 ? 127 : d(rng));
  }
  return q;
}

std::vector<int32_t> naive(const std::vector<int8_t>& t, const std::vector<int8_t>& q, int64_t rows, int64_t cols,
                           int n_tok) {
  std::vector<int32_t> acc(static_cast<size_t>(n_tok * rows));
  for (int k = 0; k < n_tok; ++k)
    for (int64_t o = 0; o < rows; ++o) {
      int32_t s = 0;
      for (int64_t i = 0; i < cols; ++i) s += int32_t{t[o * cols + i]} * q[k * cols + i];
      acc[k * rows + o] = s;
    }
  return acc;
}

std::vector<KernelPath> available_paths() {
  std::vector<KernelPath> paths;
  for (KernelPath p : {KernelPath::scalar, KernelPath::avx2, KernelPath::avx512})
    if (kernel_path_available(p)) paths.push_back(p);
  return paths;
}

TEST(TernaryMatrix, UnpackRoundTripsAndPadsWithZeroTrits) {
  std::mt19937 rng(1);
  for (const Shape& s : kShapes) {
    const auto t = random_trits(s.rows * s.cols, rng);
    const TernaryMatrix m(t.data(), s.rows, s.cols, 0.5f, KernelPath::scalar);
    EXPECT_EQ(m.unpack(), t) << s.rows << "x" << s.cols;
    EXPECT_EQ(m.cols_padded() % 256, 0);
    EXPECT_GE(m.cols_padded(), s.cols);
    EXPECT_EQ(m.packed_bytes(), s.rows * m.cols_padded() / 4);
  }
}

TEST(TernaryMatrix, PackedLayoutMatchesDocumentedBitPositions) {
  // One row, 256 columns; only column 128*1 + 32*2 + 5 = 197 is -1, column 3 is +1.
  std::vector<int8_t> t(256, 0);
  t[197] = -1;
  t[3] = 1;
  const TernaryMatrix m(t.data(), 1, 256, 1.0f, KernelPath::scalar);
  const uint8_t* p = m.packed();
  EXPECT_EQ(p[32 * 1 + 5], 0x55 & ~(3u << 4));  // code 0 in bits 4..5
  EXPECT_EQ(p[3], (0x55 & ~3u) | 2u);           // code 2 in bits 0..1
  EXPECT_EQ(p[0], 0x55);
}

TEST(TernaryMatrix, RejectsNonTritsWithPosition) {
  std::vector<int8_t> t = {0, 1, 2, -1};
  try {
    TernaryMatrix m(t.data(), 2, 2, 1.0f, KernelPath::scalar);
    FAIL() << "expected KernelError";
  } catch (const KernelError& e) {
    EXPECT_NE(std::string(e.what()).find("[1, 0]"), std::string::npos) << e.what();
  }
}

TEST(TernaryMatrix, GemvEveryPathEqualsNaive) {
  std::mt19937 rng(2);
  for (const Shape& s : kShapes) {
    const auto t = random_trits(s.rows * s.cols, rng);
    const auto q = random_q(s.cols, rng);
    const auto expected = naive(t, q, s.rows, s.cols, 1);
    for (KernelPath path : available_paths()) {
      const TernaryMatrix m(t.data(), s.rows, s.cols, 1.0f, path);
      std::vector<int32_t> acc(static_cast<size_t>(s.rows), 12345);
      m.gemv(q.data(), acc.data());
      EXPECT_EQ(acc, expected) << kernel_path_name(path) << " " << s.rows << "x" << s.cols;
    }
  }
}

TEST(TernaryMatrix, GemmEveryPathEqualsScalarAndNaive) {
  std::mt19937 rng(3);
  for (const Shape& s : kShapes) {
    for (int n_tok : {1, 2, 3, 5, 9, 70}) {
      const auto t = random_trits(s.rows * s.cols, rng);
      const auto q = random_q(s.cols * n_tok, rng);
      const auto expected = naive(t, q, s.rows, s.cols, n_tok);
      const TernaryMatrix ref(t.data(), s.rows, s.cols, 1.0f, KernelPath::scalar);
      std::vector<int32_t> ref_acc(static_cast<size_t>(s.rows * n_tok));
      ref.gemm(q.data(), n_tok, ref_acc.data());
      ASSERT_EQ(ref_acc, expected) << "scalar " << s.rows << "x" << s.cols << " n_tok " << n_tok;
      for (KernelPath path : available_paths()) {
        const TernaryMatrix m(t.data(), s.rows, s.cols, 1.0f, path);
        std::vector<int32_t> acc(static_cast<size_t>(s.rows * n_tok), -7);
        m.gemm(q.data(), n_tok, acc.data());
        EXPECT_EQ(acc, ref_acc) << kernel_path_name(path) << " " << s.rows << "x" << s.cols << " n_tok " << n_tok;
      }
    }
  }
}

TEST(TernaryMatrix, WorstCaseMagnitudesAreExact) {
  // All trits -1 and all activations -128: every product is +128, the largest possible sum.
  const int64_t rows = 7, cols = 4099;
  std::vector<int8_t> t(static_cast<size_t>(rows * cols), -1);
  std::vector<int8_t> q(static_cast<size_t>(cols), -128);
  for (int64_t i = 0; i < cols; ++i) t[i] = 1;  // row 0: all +1 -> most negative sum
  for (KernelPath path : available_paths()) {
    const TernaryMatrix m(t.data(), rows, cols, 1.0f, path);
    std::vector<int32_t> acc(rows);
    m.gemv(q.data(), acc.data());
    EXPECT_EQ(acc[0], -128 * cols) << kernel_path_name(path);
    for (int64_t o = 1; o < rows; ++o) EXPECT_EQ(acc[o], 128 * cols) << kernel_path_name(path);
  }
}

TEST(TernaryMatrix, ThreadedGemvAndGemmEqualSingleThreaded) {
  std::mt19937 rng(4);
  ThreadPool pool(3);
  for (const Shape& s : kShapes) {
    const auto t = random_trits(s.rows * s.cols, rng);
    const int n_tok = 6;
    const auto q = random_q(s.cols * n_tok, rng);
    const auto expected = naive(t, q, s.rows, s.cols, n_tok);
    for (KernelPath path : available_paths()) {
      const TernaryMatrix m(t.data(), s.rows, s.cols, 1.0f, path);
      std::vector<int32_t> acc(static_cast<size_t>(s.rows * n_tok));
      m.gemm(q.data(), n_tok, acc.data(), &pool);
      EXPECT_EQ(acc, expected) << kernel_path_name(path);
      std::vector<int32_t> acc1(static_cast<size_t>(s.rows));
      m.gemv(q.data(), acc1.data(), &pool);
      EXPECT_EQ(acc1, std::vector<int32_t>(expected.begin(), expected.begin() + s.rows));
    }
  }
}

}  // namespace
}  // namespace bitnet::kernels
