// The CPU bf16 flash attention against PyTorch's fp32 attention on the same bf16 values: outputs and
// the gradients of q, k and v, with grouped KV heads, sequence lengths that are not multiples of
// the 64-row block, several head sizes and document masks; bit-identical results at 1 and 2
// threads; causal_attention choosing it for bf16 input; its tile product, on AMX tiles and with
// VDPBF16PS, exact where fp32 sums are exact; and its exponential rows, never denormal.
#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <limits>
#include <vector>

#include "layers/attention.h"
#include "layers/attention_tiles.h"
#include "layers/cpu_flash_attention.h"

namespace bitnet {
namespace {

struct Case {
  int64_t batch, heads, kv_heads, seq_len, head_dim;
  bool documents;
};

struct Result {
  torch::Tensor out, dq, dk, dv;
};

// Document ids that split every row into a few runs of different lengths.
torch::Tensor documents_for(int64_t batch, int64_t seq_len) {
  torch::Tensor ids = torch::zeros({batch, seq_len}, torch::kLong);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t t = 0; t < seq_len; ++t) ids[b][t] = (t + 13 * b) / (17 + 29 * b);
  return ids;
}

// PyTorch's attention in fp32 (the reference) or ours in bf16, on the same bf16-valued inputs.
Result run(const Case& c, bool ours) {
  torch::manual_seed(c.seq_len * 131 + c.head_dim);
  auto input = [&](int64_t heads) {
    return (torch::randn({c.batch, heads, c.seq_len, c.head_dim}) * 1.5).to(torch::kBFloat16);
  };
  torch::Tensor q = input(c.heads), k = input(c.kv_heads), v = input(c.kv_heads);
  torch::Tensor grad = torch::randn({c.batch, c.heads, c.seq_len, c.head_dim}).to(torch::kBFloat16);
  if (!ours) {
    q = q.to(torch::kFloat);
    k = k.to(torch::kFloat);
    v = v.to(torch::kFloat);
  }
  q.requires_grad_();
  k.requires_grad_();
  v.requires_grad_();
  const torch::Tensor docs = c.documents ? documents_for(c.batch, c.seq_len) : torch::Tensor();
  torch::Tensor out = ours ? cpu_flash_attention(q, k, v, docs) : causal_attention(q, k, v, docs);
  out.backward(grad.to(out.scalar_type()));
  auto f = [](const torch::Tensor& t) { return t.to(torch::kFloat); };
  return {f(out.detach()), f(q.grad()), f(k.grad()), f(v.grad())};
}

// Largest error relative to the largest reference magnitude, or absolute where that is below 1
// (with one position, dq and dk are 0 up to rounding).
double relative_error(const torch::Tensor& got, const torch::Tensor& want) {
  const double err = (got - want).abs().max().item<double>();
  return err / std::max(want.abs().max().item<double>(), 1.0);
}

class CpuFlashAttention : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    if (!attention_tiles::cpu_has_avx512_bf16()) GTEST_SKIP() << "this CPU has no AVX512-BF16";
  }
};

TEST_P(CpuFlashAttention, MatchesFp32AttentionForwardAndBackward) {
  const Case c = GetParam();
  const Result want = run(c, false), got = run(c, true);
  ASSERT_FALSE(got.out.isnan().any().item<bool>());
  // bf16 rounding of the output (2^-9 relative) and of the probabilities and score gradients
  // before their products; fp32 elsewhere.
  // Measured: 2-4e-3 for each.
  EXPECT_LT(relative_error(got.out, want.out), 6e-3);
  EXPECT_LT(relative_error(got.dq, want.dq), 1e-2);
  EXPECT_LT(relative_error(got.dk, want.dk), 1e-2);
  EXPECT_LT(relative_error(got.dv, want.dv), 8e-3);
}

INSTANTIATE_TEST_SUITE_P(Shapes, CpuFlashAttention,
                         ::testing::Values(Case{2, 4, 2, 100, 64, false}, Case{1, 2, 2, 256, 32, false},
                                           Case{2, 4, 1, 65, 128, false}, Case{1, 3, 3, 1, 16, false},
                                           Case{2, 4, 2, 150, 64, true}, Case{1, 2, 1, 64, 48, true}));

TEST_F(CpuFlashAttention, SameBitsAtOneAndTwoThreads) {
  const Case c{2, 4, 2, 130, 64, true};
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  const Result one = run(c, true);
  at::set_num_threads(2);
  const Result two = run(c, true);
  at::set_num_threads(threads);
  EXPECT_TRUE(torch::equal(one.out, two.out));
  EXPECT_TRUE(torch::equal(one.dq, two.dq));
  EXPECT_TRUE(torch::equal(one.dk, two.dk));
  EXPECT_TRUE(torch::equal(one.dv, two.dv));
}

TEST_F(CpuFlashAttention, CausalAttentionTakesItForBf16AndNotForFp32) {
  torch::Tensor q = torch::randn({1, 2, 70, 32}), k = torch::randn({1, 1, 70, 32}), v = torch::randn({1, 1, 70, 32});
  EXPECT_EQ(causal_attention(q, k, v).scalar_type(), torch::kFloat);
  const torch::Tensor qb = q.to(torch::kBFloat16), kb = k.to(torch::kBFloat16), vb = v.to(torch::kBFloat16);
  ASSERT_TRUE(cpu_flash_attention_applies(qb, kb, vb));
  EXPECT_TRUE(torch::equal(causal_attention(qb, kb, vb), cpu_flash_attention(qb, kb, vb, {})));
  EXPECT_FALSE(cpu_flash_attention_applies(qb.narrow(3, 0, 24), kb.narrow(3, 0, 24), vb.narrow(3, 0, 24)));
}

TEST_F(CpuFlashAttention, TransposedViewsReadAsTheirValues) {
  // The model hands over (B, T, H, D) projections viewed as (B, H, T, D); same result as copies.
  torch::manual_seed(9);
  torch::Tensor q = torch::randn({2, 90, 4, 32}).to(torch::kBFloat16).transpose(1, 2);
  torch::Tensor k = torch::randn({2, 90, 2, 32}).to(torch::kBFloat16).transpose(1, 2);
  torch::Tensor v = torch::randn({2, 90, 2, 32}).to(torch::kBFloat16).transpose(1, 2);
  EXPECT_TRUE(torch::equal(cpu_flash_attention(q, k, v, {}),
                           cpu_flash_attention(q.contiguous(), k.contiguous(), v.contiguous(), {})));
}

// A (M x K) and B (K x N) row-major bf16 with small integer values, so that every product and sum is
// exact in fp32 whatever the order of addition; B packed as tile_product reads it.
struct IntegerOperands {
  int64_t m, n, k;
  std::vector<uint16_t> a, b_packed;
  std::vector<float> want;  // c0 + A B, exact

  IntegerOperands(int64_t m, int64_t n, int64_t k, const std::vector<float>& c0) : m(m), n(n), k(k) {
    torch::manual_seed(m * 1000 + n * 10 + k);
    const torch::Tensor a_values = torch::randint(-3, 4, {m, k}, torch::kFloat);
    const torch::Tensor b_values = torch::randint(-3, 4, {k, n}, torch::kFloat);
    const torch::Tensor sum = (torch::tensor(c0).view({m, n}) + a_values.matmul(b_values)).contiguous();
    want.assign(sum.data_ptr<float>(), sum.data_ptr<float>() + sum.numel());
    a = bits_of(a_values);
    const std::vector<uint16_t> b = bits_of(b_values);
    b_packed.assign(k * n, 0);
    attention_tiles::pack_row_pairs(b.data(), n, k, k, n, b_packed.data(), n);
  }

  static std::vector<uint16_t> bits_of(const torch::Tensor& values) {
    const torch::Tensor bits = values.to(torch::kBFloat16).contiguous().view(torch::kInt16);
    const auto* p = reinterpret_cast<const uint16_t*>(bits.data_ptr<int16_t>());
    return {p, p + bits.numel()};
  }
};

std::vector<float> start_values(int64_t m, int64_t n) {
  std::vector<float> c(m * n);
  for (int64_t i = 0; i < m * n; ++i) c[i] = static_cast<float>(i % 7) - 3.0f;
  return c;
}

TEST_F(CpuFlashAttention, TileProductIsExactOnIntegersAtEveryShape) {
  // Row counts with and without a 16-row tail, K with and without a 32 multiple (the AMX split).
  const int64_t shapes[][3] = {{64, 64, 64}, {53, 48, 64}, {64, 80, 48}, {7, 16, 2}, {32, 32, 96}, {17, 64, 32}};
  for (const auto& [m, n, k] : shapes) {
    const std::vector<float> c0 = start_values(m, n);
    const IntegerOperands ops(m, n, k, c0);
    std::vector<float> c = c0;
    attention_tiles::tile_product(ops.a.data(), k, ops.b_packed.data(), n, c.data(), n, m, n, k);
    EXPECT_EQ(c, ops.want) << m << " x " << n << " x " << k;
    c = c0;
    attention_tiles::tile_product_avx512(ops.a.data(), k, ops.b_packed.data(), n, c.data(), n, m, n, k);
    EXPECT_EQ(c, ops.want) << "VDPBF16PS, " << m << " x " << n << " x " << k;
  }
}

TEST_F(CpuFlashAttention, AmxTilesMatchVdpbf16ps) {
  if (!attention_tiles::cpu_has_amx_bf16()) GTEST_SKIP() << "this CPU (or kernel) gives no AMX bf16 tiles";
  // Exact on integers, at the block sizes 2 x 2, 2 x 1, 1 x 2 and 1 x 1 tiles.
  for (const auto& [m, n, k] : {std::array<int64_t, 3>{32, 32, 64}, {48, 48, 32}, {16, 16, 128}, {64, 64, 64}}) {
    const std::vector<float> c0 = start_values(m, n);
    const IntegerOperands ops(m, n, k, c0);
    std::vector<float> c = c0;
    attention_tiles::tile_product_amx(ops.a.data(), k, ops.b_packed.data(), n, c.data(), n, m, n, k);
    EXPECT_EQ(c, ops.want) << "AMX, " << m << " x " << n << " x " << k;
  }
  // Random bf16 values with row pitches wider than the operands: the two paths agree up to the
  // order of their fp32 additions.
  const int64_t m = 48, n = 32, k = 64, lda = 80, ldb = 48, ldc = 40;
  torch::manual_seed(17);
  const std::vector<uint16_t> a = IntegerOperands::bits_of(torch::randn({m, lda}));
  const std::vector<uint16_t> b = IntegerOperands::bits_of(torch::randn({k, ldb}));
  std::vector<uint16_t> packed(k * ldb);
  attention_tiles::pack_row_pairs(b.data(), ldb, k, k, ldb, packed.data(), ldb);
  std::vector<float> amx(m * ldc, 0.5f), avx512(m * ldc, 0.5f);
  attention_tiles::tile_product_amx(a.data(), lda, packed.data(), ldb, amx.data(), ldc, m, n, k);
  attention_tiles::tile_product_avx512(a.data(), lda, packed.data(), ldb, avx512.data(), ldc, m, n, k);
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < ldc; ++j) {
      // Columns past n are not the product's: neither path writes them.
      if (j >= n) {
        EXPECT_EQ(amx[i * ldc + j], 0.5f);
        EXPECT_EQ(avx512[i * ldc + j], 0.5f);
      } else {
        EXPECT_NEAR(amx[i * ldc + j], avx512[i * ldc + j], 1e-5 * k) << i << ", " << j;
      }
    }
  }
}

TEST_F(CpuFlashAttention, TransposeMovesEveryValueAndZeroesThePadding) {
  // Whole 8 x 8 blocks, row and column tails, and pitches wider than the matrices.
  const int64_t shapes[][3] = {{64, 64, 64}, {13, 21, 16}, {36, 64, 64}, {8, 8, 8}, {5, 3, 6}};
  for (const auto& [m, n, padded] : shapes) {
    const int64_t src_ld = n + 3, dst_ld = padded + 5;
    std::vector<uint16_t> src(m * src_ld);
    for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<uint16_t>(i * 7919 + 1);
    std::vector<uint16_t> dst(n * dst_ld, 0xFFFF);
    attention_tiles::transpose(src.data(), src_ld, m, n, padded, dst.data(), dst_ld);
    for (int64_t j = 0; j < n; ++j) {
      for (int64_t i = 0; i < dst_ld; ++i) {
        const uint16_t want = i < m ? src[i * src_ld + j] : i < padded ? 0 : 0xFFFF;
        ASSERT_EQ(dst[j * dst_ld + i], want) << m << " x " << n << ": row " << j << ", column " << i;
      }
    }
  }
}

// bf16 bits as a float, and whether they are a denormal (zero exponent, nonzero mantissa).
float float_of_bf16(uint16_t bits) {
  return c10::BFloat16(bits, c10::BFloat16::from_bits());
}
bool denormal_bf16(uint16_t bits) {
  return (bits & 0x7F80) == 0 && (bits & 0x007F) != 0;
}

TEST_F(CpuFlashAttention, ExpRowsAreExactZeroBelowTheNormalRangeAndCloseAboveIt) {
  // Exponents from -100 to +2 in steps that land on both sides of kExpLowest, and -inf (a masked
  // score). exp_row takes s * scale - shift, softmax_grad_row s * scale - lse.
  constexpr int64_t n = 208;
  const float scale = 0.5f, shift = 1.0f;
  std::vector<float> s(n), dp(n);
  for (int64_t j = 0; j < n; ++j) {
    s[j] = (-100.0f + 0.5f * static_cast<float>(j) + shift) / scale;
    dp[j] = 0.25f * static_cast<float>(j % 7) - 0.5f;
  }
  s[3] = -std::numeric_limits<float>::infinity();
  std::vector<uint16_t> p(n), p_grad(n), ds(n);
  const float sum = attention_tiles::exp_row(s.data(), n, scale, shift, p.data());
  const float delta = 0.125f;
  attention_tiles::softmax_grad_row(s.data(), dp.data(), n, scale, shift, delta, p_grad.data(), ds.data());
  double want_sum = 0.0;
  for (int64_t j = 0; j < n; ++j) {
    const float x = s[j] * scale - shift;
    const double e = x < attention_tiles::kExpLowest ? 0.0 : std::exp(static_cast<double>(x));
    want_sum += e;
    EXPECT_FALSE(denormal_bf16(p[j])) << "exponent " << x;
    EXPECT_EQ(p_grad[j], p[j]) << "exponent " << x;  // the same e^x, recomputed
    if (e == 0.0) {
      EXPECT_EQ(p[j], 0) << "exponent " << x;
      EXPECT_EQ(ds[j] & 0x7FFF, 0) << "exponent " << x;
      continue;
    }
    EXPECT_NEAR(float_of_bf16(p[j]), e, e * 0x1p-8) << "exponent " << x;  // bf16: 8 significant bits
    const double g = e * (dp[j] - delta) * scale;
    EXPECT_NEAR(float_of_bf16(ds[j]), g, std::abs(g) * 0x1p-7 + 1e-38) << "exponent " << x;
  }
  EXPECT_NEAR(sum, want_sum, want_sum * 1e-6);
}

}  // namespace
}  // namespace bitnet
