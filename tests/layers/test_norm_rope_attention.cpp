// RMSNorm, RoPE and causal grouped-KV attention on small hand-checked cases.
#include <gtest/gtest.h>

#include <cmath>

#include "layers/attention.h"
#include "layers/rms_norm.h"
#include "layers/rope.h"

namespace bitnet {
namespace {

TEST(RMSNorm, HandComputed) {
  RMSNorm norm(2, 1e-5);
  norm->weight.data().copy_(torch::tensor({1.0f, 2.0f}));
  torch::Tensor y = norm(torch::tensor({3.0f, 4.0f}).view({1, 2}));
  const float inv = 1.0f / std::sqrt(12.5f + 1e-5f);  // mean(9, 16) = 12.5
  EXPECT_NEAR(y[0][0].item<float>(), 3.0f * inv, 1e-6);
  EXPECT_NEAR(y[0][1].item<float>(), 8.0f * inv, 1e-6);
}

TEST(RMSNorm, KeepsBf16InputDtypeButComputesInFp32) {
  RMSNorm norm(4, 1e-5);
  torch::Tensor x = torch::randn({2, 4}).to(torch::kBFloat16);
  torch::Tensor y = norm(x);
  EXPECT_EQ(y.scalar_type(), torch::kBFloat16);
  torch::Tensor xf = x.to(torch::kFloat);
  torch::Tensor expected = xf * torch::rsqrt(xf.pow(2).mean(-1, true) + 1e-5);
  EXPECT_TRUE(torch::allclose(y.to(torch::kFloat), expected, 1e-2, 1e-2));
}

// The fused CPU pass against the LibTorch-op reference, forward and backward (input and weight
// gradients), in fp32 and bf16, for widths that leave a tail past the 16 lanes and row counts that
// leave a partial block of the weight-gradient sums.
TEST(RMSNorm, FusedCpuPassMatchesTheOpComposition) {
  torch::manual_seed(3);
  for (torch::Dtype dtype : {torch::kFloat, torch::kBFloat16}) {
    for (int64_t n : {4, 37, 256}) {
      for (int64_t rows : {1, 3, 130}) {
        RMSNorm norm(n, 1e-5);
        norm->weight.data().copy_(torch::rand({n}) + 0.5);
        const torch::Tensor x0 = (torch::randn({rows, n}) * 3).to(dtype);
        const torch::Tensor upstream = torch::randn({rows, n}).to(dtype);
        torch::Tensor x = x0.clone().requires_grad_(true);
        torch::Tensor y = norm(x);
        y.backward(upstream);
        const torch::Tensor w_grad = norm->weight.grad().clone();
        norm->weight.mutable_grad().reset();

        torch::Tensor xr = x0.clone().requires_grad_(true);
        torch::Tensor yr = rms_norm_reference(xr, norm->weight, 1e-5);
        yr.backward(upstream);
        const std::string at = std::string(dtype == torch::kFloat ? "fp32" : "bf16") + " n " + std::to_string(n) +
                               " rows " + std::to_string(rows);
        ASSERT_EQ(y.scalar_type(), dtype) << at;
        ASSERT_EQ(x.grad().scalar_type(), dtype) << at;
        // fp32: a few ulps (sums in another order); bf16: one rounding of the output.
        const double tol = dtype == torch::kFloat ? 1e-5 : 1e-2;
        EXPECT_TRUE(torch::allclose(y.to(torch::kFloat), yr.to(torch::kFloat), tol, tol)) << at;
        EXPECT_TRUE(torch::allclose(x.grad().to(torch::kFloat), xr.grad().to(torch::kFloat), tol, tol)) << at;
        EXPECT_TRUE(torch::allclose(w_grad, norm->weight.grad(), dtype == torch::kFloat ? 1e-4 : 2e-2, tol)) << at;
        norm->weight.mutable_grad().reset();
      }
    }
  }
}

// The weight gradient is summed per block of rows, then the blocks in order: the same bits with
// one thread or two.
TEST(RMSNorm, FusedWeightGradientDoesNotDependOnTheThreadCount) {
  torch::manual_seed(4);
  const torch::Tensor x0 = torch::randn({300, 64}), upstream = torch::randn({300, 64});
  auto weight_grad = [&](int threads) {
    const int before = at::get_num_threads();
    at::set_num_threads(threads);
    RMSNorm norm(64, 1e-5);
    torch::Tensor x = x0.clone().requires_grad_(true);
    norm(x).backward(upstream);
    at::set_num_threads(before);
    return std::make_pair(norm->weight.grad().clone(), x.grad().clone());
  };
  const auto one = weight_grad(1), two = weight_grad(2);
  EXPECT_TRUE(torch::equal(one.first, two.first));
  EXPECT_TRUE(torch::equal(one.second, two.second));
}

TEST(RoPE, RotateHalfAtPositionOne) {
  // D = 4, theta = 10000: inv_freq = [1, 0.01]. Dimension 0 pairs with 2, 1 with 3.
  auto [cos, sin] = rope_tables(2, 4, 10000.0);
  torch::Tensor x = torch::tensor({1.0f, 0.0f, 0.0f, 0.0f, 1.0f, 0.0f, 0.0f, 0.0f}).view({1, 1, 2, 4});
  torch::Tensor y = apply_rope(x, cos, sin);
  // Position 0 is the identity; position 1 rotates (x0, x2) by 1 radian.
  EXPECT_TRUE(torch::allclose(y[0][0][0], x[0][0][0]));
  EXPECT_NEAR(y[0][0][1][0].item<float>(), std::cos(1.0f), 1e-6);
  EXPECT_NEAR(y[0][0][1][2].item<float>(), std::sin(1.0f), 1e-6);
  EXPECT_NEAR(y[0][0][1][1].item<float>(), 0.0f, 1e-7);
  // The (1, 3) pair rotates by 0.01 radian.
  torch::Tensor x1 = torch::tensor({0.0f, 1.0f, 0.0f, 0.0f}).view({1, 1, 1, 4});
  auto [cos1, sin1] = rope_tables(1, 4, 10000.0, /*start=*/1);
  torch::Tensor y1 = apply_rope(x1, cos1, sin1);
  EXPECT_NEAR(y1[0][0][0][1].item<float>(), std::cos(0.01f), 1e-6);
  EXPECT_NEAR(y1[0][0][0][3].item<float>(), std::sin(0.01f), 1e-6);
}

// The fused CPU rotation against the op composition: q and k arrive as a transposed view
// (B, T, H, D) -> (B, H, T, D), in fp32 or bf16, and leave in fp32 or bf16 (the bf16 attention's
// input). The forward keeps the composition's roundings (equal); gradients reach x in its dtype.
TEST(RoPE, FusedCpuPassMatchesTheOpComposition) {
  torch::manual_seed(6);
  auto [cos, sin] = rope_tables(7, 10, 500.0, /*start=*/3);
  for (torch::Dtype dtype : {torch::kFloat, torch::kBFloat16})
    for (torch::Dtype out_dtype : {torch::kFloat, torch::kBFloat16}) {
      const torch::Tensor x0 = torch::randn({2, 7, 3, 10}).to(dtype);  // (B, T, H, D)
      const torch::Tensor upstream = torch::randn({2, 3, 7, 10}).to(out_dtype);
      torch::Tensor x = x0.clone().requires_grad_(true), xr = x0.clone().requires_grad_(true);
      torch::Tensor y = apply_rope(x.transpose(1, 2), cos, sin, out_dtype);
      torch::Tensor yr = apply_rope_reference(xr.transpose(1, 2), cos, sin).to(out_dtype);
      y.backward(upstream);
      yr.backward(upstream);
      EXPECT_EQ(y.scalar_type(), out_dtype);
      EXPECT_TRUE(torch::equal(y, yr));
      ASSERT_EQ(x.grad().scalar_type(), dtype);
      const double tol = dtype == torch::kFloat ? 1e-6 : 1e-2;
      EXPECT_TRUE(torch::allclose(x.grad().to(torch::kFloat), xr.grad().to(torch::kFloat), tol, tol));
    }
}

TEST(CausalAttention, HandComputedWithSharedKvHead) {
  // B = 1, two query heads sharing one KV head, T = 2, D = 1, scale = 1.
  // Position 0 sees only itself: v0 = 2. Position 1: scores [0, ln 3] -> [1/4, 3/4] -> 0.5 + 4.5 = 5.
  torch::Tensor q = torch::ones({1, 2, 2, 1});
  torch::Tensor k = torch::tensor({0.0f, std::log(3.0f)}).view({1, 1, 2, 1});
  torch::Tensor v = torch::tensor({2.0f, 6.0f}).view({1, 1, 2, 1});
  torch::Tensor y = causal_attention(q, k, v);
  for (int h = 0; h < 2; ++h) {
    EXPECT_NEAR(y[0][h][0][0].item<float>(), 2.0f, 1e-6);
    EXPECT_NEAR(y[0][h][1][0].item<float>(), 5.0f, 1e-5);
  }
}

TEST(CausalAttention, GroupsMapQueryHeadsToTheirKvHead) {
  // 4 query heads, 2 KV heads: heads 0-1 use KV head 0 (v = 1), heads 2-3 use KV head 1 (v = 7).
  torch::Tensor q = torch::randn({1, 4, 3, 2});
  torch::Tensor k = torch::randn({1, 2, 3, 2});
  torch::Tensor v = torch::cat({torch::full({1, 1, 3, 2}, 1.0f), torch::full({1, 1, 3, 2}, 7.0f)}, 1);
  torch::Tensor y = causal_attention(q, k, v);
  EXPECT_TRUE(torch::allclose(y.narrow(1, 0, 2), torch::full({1, 2, 3, 2}, 1.0f)));
  EXPECT_TRUE(torch::allclose(y.narrow(1, 2, 2), torch::full({1, 2, 3, 2}, 7.0f)));
}

}  // namespace
}  // namespace bitnet
