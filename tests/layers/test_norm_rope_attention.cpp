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
