// The FFN's act(gate) * up: the fused CPU pass against the LibTorch-op reference.
#include <gtest/gtest.h>

#include <string>

#include "layers/feed_forward.h"

namespace bitnet {
namespace {

// Forward and both gradients, for relu² and SiLU, fp32 and bf16 inputs and outputs. The forward
// computes the reference's fp32 operations in order (equal in fp32); the backward differs from
// LibTorch's autograd only in rounding.
TEST(GatedActivation, FusedCpuPassMatchesTheOpComposition) {
  torch::manual_seed(5);
  for (formats::HiddenAct act : {formats::HiddenAct::relu2, formats::HiddenAct::silu}) {
    for (torch::Dtype in : {torch::kFloat, torch::kBFloat16}) {
      for (torch::Dtype out : {torch::kFloat, torch::kBFloat16}) {
        torch::Tensor gate0 = (torch::randn({3, 5, 37}) * 2).to(in), up0 = torch::randn({3, 5, 37}).to(in);
        gate0.view(-1)[0] = 0;  // relu²'s kink
        const torch::Tensor upstream = torch::randn({3, 5, 37}).to(out);
        torch::Tensor gate = gate0.clone().requires_grad_(true), up = up0.clone().requires_grad_(true);
        torch::Tensor h = gated_activation(gate, up, act, out);
        h.backward(upstream);
        torch::Tensor gate_r = gate0.clone().requires_grad_(true), up_r = up0.clone().requires_grad_(true);
        torch::Tensor h_r = gated_activation_reference(gate_r, up_r, act, out);
        h_r.backward(upstream);

        const std::string at = std::string(act == formats::HiddenAct::relu2 ? "relu2" : "silu") + " in " +
                               (in == torch::kFloat ? "fp32" : "bf16") + " out " +
                               (out == torch::kFloat ? "fp32" : "bf16");
        ASSERT_EQ(h.scalar_type(), out) << at;
        ASSERT_EQ(gate.grad().scalar_type(), in) << at;
        ASSERT_EQ(up.grad().scalar_type(), in) << at;
        if (act == formats::HiddenAct::relu2)
          EXPECT_TRUE(torch::equal(h, h_r)) << at;
        else  // SiLU's exp: libm against LibTorch's vectorized exp
          EXPECT_TRUE(torch::allclose(h.to(torch::kFloat), h_r.to(torch::kFloat), 1e-5, 1e-6)) << at;
        const double tol = in == torch::kFloat && out == torch::kFloat ? 1e-5 : 2e-2;
        EXPECT_TRUE(torch::allclose(gate.grad().to(torch::kFloat), gate_r.grad().to(torch::kFloat), tol, tol)) << at;
        EXPECT_TRUE(torch::allclose(up.grad().to(torch::kFloat), up_r.grad().to(torch::kFloat), tol, tol)) << at;
      }
    }
  }
}

}  // namespace
}  // namespace bitnet
