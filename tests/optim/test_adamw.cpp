// Our AdamW against LibTorch's own torch::optim::AdamW (an independent implementation), the
// weight-decay mask, state round trip, and gradient clipping against the formula.
#include <gtest/gtest.h>

#include "optim/adamw.h"
#include "optim/grad_clip.h"

namespace bitnet {
namespace {

// fp32 CPU parameters take PyTorch's fused kernel; one with decay, one without.
TEST(AdamW, MatchesLibTorchAdamWStepForStep) {
  torch::manual_seed(0);
  torch::Tensor ours = torch::randn({5, 7}).requires_grad_();
  torch::Tensor ours_norm = torch::randn({7}).requires_grad_();
  torch::Tensor theirs = ours.detach().clone().requires_grad_();
  torch::Tensor theirs_norm = ours_norm.detach().clone().requires_grad_();
  AdamW opt({{"layer.q_proj.weight", ours}, {"layer.norm.weight", ours_norm}},
            AdamWOptions{.beta1 = 0.9, .beta2 = 0.95, .eps = 1e-8});
  torch::optim::AdamW ref({theirs}, torch::optim::AdamWOptions(3e-3).betas({0.9, 0.95}).eps(1e-8).weight_decay(0.1));
  torch::optim::AdamW ref_norm({theirs_norm},
                               torch::optim::AdamWOptions(3e-3).betas({0.9, 0.95}).eps(1e-8).weight_decay(0.0));
  for (int step = 0; step < 5; ++step) {
    torch::Tensor g = torch::randn({5, 7}), g_norm = torch::randn({7});
    ours.mutable_grad() = g.clone();
    theirs.mutable_grad() = g.clone();
    ours_norm.mutable_grad() = g_norm.clone();
    theirs_norm.mutable_grad() = g_norm.clone();
    opt.step(3e-3, 0.1);
    ref.step();
    ref_norm.step();
    ASSERT_TRUE(torch::allclose(ours, theirs, 1e-6, 1e-7)) << "step " << step;
    ASSERT_TRUE(torch::allclose(ours_norm, theirs_norm, 1e-6, 1e-7)) << "step " << step;
  }
  EXPECT_EQ(opt.step_count(), 5);
}

// A parameter the fused kernel does not take (bf16 here; off the CPU likewise) sends the whole
// step through the op-by-op update, which agrees with the fused one.
TEST(AdamW, OpByOpUpdateAgreesWithTheFusedOne) {
  torch::manual_seed(3);
  torch::Tensor fused = torch::randn({6, 4}).requires_grad_();
  torch::Tensor op_by_op = fused.detach().clone().requires_grad_();
  torch::Tensor other = torch::randn({3}).to(torch::kBFloat16).requires_grad_();
  AdamW a({{"x.up_proj.weight", fused}}, AdamWOptions{});
  AdamW b({{"x.up_proj.weight", op_by_op}, {"y.weight", other}}, AdamWOptions{});
  for (int step = 0; step < 4; ++step) {
    torch::Tensor g = torch::randn({6, 4});
    fused.mutable_grad() = g.clone();
    op_by_op.mutable_grad() = g.clone();
    other.mutable_grad() = torch::randn({3}).to(torch::kBFloat16);
    const torch::Tensor other_before = other.detach().clone();
    a.step(1e-2, 0.1);
    b.step(1e-2, 0.1);
    ASSERT_TRUE(torch::allclose(fused, op_by_op, 1e-6, 1e-7)) << "step " << step;
    ASSERT_FALSE(torch::equal(other.detach(), other_before)) << "the bf16 parameter was not updated";
  }
}

TEST(AdamW, DecayOnlyOnProjectionWeights) {
  EXPECT_TRUE(applies_weight_decay("model.layers.0.self_attn.q_proj.weight"));
  EXPECT_TRUE(applies_weight_decay("model.layers.3.mlp.down_proj.weight"));
  EXPECT_FALSE(applies_weight_decay("model.embed_tokens.weight"));
  EXPECT_FALSE(applies_weight_decay("lm_head.weight"));
  EXPECT_FALSE(applies_weight_decay("model.layers.0.input_layernorm.weight"));
  EXPECT_FALSE(applies_weight_decay("model.norm.weight"));
  // With a zero gradient and zero moments, only weight decay moves a parameter.
  torch::Tensor proj = torch::ones({2, 2}).requires_grad_();
  torch::Tensor norm = torch::ones({2}).requires_grad_();
  AdamW opt({{"a.o_proj.weight", proj}, {"a.attn_sub_norm.weight", norm}}, AdamWOptions{});
  proj.mutable_grad() = torch::zeros({2, 2});
  norm.mutable_grad() = torch::zeros({2});
  opt.step(0.5, 0.1);
  EXPECT_TRUE(torch::allclose(proj, torch::full({2, 2}, 0.95f)));
  EXPECT_TRUE(torch::equal(norm, torch::ones({2})));
}

TEST(AdamW, StateRoundTripContinuesIdentically) {
  torch::manual_seed(1);
  torch::Tensor a = torch::randn({3, 3}).requires_grad_();
  torch::Tensor b = a.detach().clone().requires_grad_();
  AdamW opt_a({{"x.up_proj.weight", a}}, AdamWOptions{});
  a.mutable_grad() = torch::randn({3, 3});
  opt_a.step(1e-2, 0.1);
  // Copy weights and state into a fresh optimizer, then take the same step on both.
  {
    torch::NoGradGuard g;
    b.copy_(a);
  }
  AdamW opt_b({{"x.up_proj.weight", b}}, AdamWOptions{});
  std::map<std::string, torch::Tensor> state;
  for (auto& [k, v] : opt_a.state_tensors()) state[k] = v.clone();
  opt_b.load_state(state, opt_a.step_count());
  torch::Tensor g = torch::randn({3, 3});
  a.mutable_grad() = g.clone();
  b.mutable_grad() = g.clone();
  opt_a.step(1e-2, 0.1);
  opt_b.step(1e-2, 0.1);
  EXPECT_TRUE(torch::equal(a, b));
  state.erase("x.up_proj.weight.exp_avg");
  EXPECT_THROW(opt_b.load_state(state, 1), std::runtime_error);
}

TEST(AdamW, FrozenParametersGetNoState) {
  torch::Tensor frozen = torch::ones({2, 2});
  torch::Tensor trained = torch::ones({2, 2}).requires_grad_();
  AdamW opt({{"base.q_proj.weight", frozen}, {"lora_A.weight", trained}}, AdamWOptions{});
  EXPECT_EQ(opt.state_tensors().size(), 2u);
}

TEST(GradClip, NormAndScaleFollowTheFormula) {
  torch::Tensor p1 = torch::zeros({2}).requires_grad_();
  torch::Tensor p2 = torch::zeros({1}).requires_grad_();
  p1.mutable_grad() = torch::tensor({3.0f, 0.0f});
  p2.mutable_grad() = torch::tensor({4.0f});
  EXPECT_NEAR(clip_grad_norm({p1, p2}, 1.0), 5.0, 1e-6);  // sqrt(9 + 16)
  EXPECT_NEAR(p1.grad()[0].item<float>(), 3.0f / (5.0f + 1e-6f), 1e-6);
  EXPECT_NEAR(p2.grad()[0].item<float>(), 4.0f / (5.0f + 1e-6f), 1e-6);
  // Below the limit nothing changes.
  EXPECT_NEAR(clip_grad_norm({p1, p2}, 10.0), 1.0, 1e-5);
  EXPECT_NEAR(p2.grad()[0].item<float>(), 0.8f, 1e-5);
}

}  // namespace
}  // namespace bitnet
