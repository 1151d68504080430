// LoRALinear on its own: the parameters it registers (the replaced BitLinear's weight tensor
// under its old name, then lora_A and lora_B), its output against the formula, its merged weight
// and adapter tensors; and swapping a projection in a BitNetLM: the parent's parameter names stay,
// the layer's forward calls the new module, gradients reach only what is not frozen.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "layers/bitnet_lm.h"
#include "layers/lora_linear.h"

namespace bitnet {
namespace {

std::vector<std::string> parameter_names(const torch::nn::Module& m) {
  std::vector<std::string> names;
  for (const auto& item : m.named_parameters()) names.push_back(item.key());
  return names;
}

BitLinear random_bit_linear(bool quantize) {
  BitLinear base(BitLinearOptions{.in_features = 8, .out_features = 6, .quantize = quantize});
  torch::NoGradGuard no_grad;
  torch::manual_seed(1);
  base->weight.copy_(torch::randn({6, 8}));
  return base;
}

LoRALinear adapter_on(const BitLinear& base, double scale = 2.5) {
  return LoRALinear(*base, LoRAOptions{.rank = 3, .scale = scale}, at::detail::createCPUGenerator(4));
}

TEST(LoRALinear, RegistersTheBaseWeightThenTheAdapter) {
  BitLinear base = random_bit_linear(true);
  base->weight.set_requires_grad(false);
  LoRALinear lora = adapter_on(base);
  EXPECT_EQ(parameter_names(*lora), (std::vector<std::string>{"weight", "lora_A.weight", "lora_B.weight"}));
  EXPECT_TRUE(lora->weight.is_same(base->weight));  // the same tensor, not a copy
  EXPECT_FALSE(lora->weight.requires_grad());
  EXPECT_TRUE(lora->lora_A->weight.requires_grad());
  EXPECT_EQ(lora->lora_A->weight.sizes(), (std::vector<int64_t>{3, 8}));
  EXPECT_EQ(lora->lora_B->weight.sizes(), (std::vector<int64_t>{6, 3}));
  EXPECT_LE(lora->lora_A->weight.abs().max().item<double>(), 1.0 / std::sqrt(8.0));
  EXPECT_TRUE(torch::equal(lora->lora_B->weight, torch::zeros({6, 3})));
}

TEST(LoRALinear, AdapterParamsAreTheTwoAdapterTensors) {
  BitLinear base = random_bit_linear(true);
  LoRALinear lora = adapter_on(base);
  const NamedTensors params = lora->adapter_params();
  ASSERT_EQ(params.size(), 2u);
  EXPECT_EQ(params[0].first, "lora_A.weight");
  EXPECT_TRUE(params[0].second.is_same(lora->lora_A->weight));
  EXPECT_EQ(params[1].first, "lora_B.weight");
  EXPECT_TRUE(params[1].second.is_same(lora->lora_B->weight));
}

TEST(LoRALinear, WithBZeroTheOutputIsTheBaseOutput) {
  BitLinear base = random_bit_linear(true);
  LoRALinear lora = adapter_on(base);
  torch::NoGradGuard no_grad;
  const torch::Tensor x = torch::randn({2, 5, 8});
  EXPECT_TRUE(torch::equal(lora(x), base(x)));
}

TEST(LoRALinear, AddsTheScaledLowRankProductToTheBaseOutput) {
  for (bool quantize : {false, true}) {
    BitLinear base = random_bit_linear(quantize);
    LoRALinear lora = adapter_on(base);
    torch::NoGradGuard no_grad;
    lora->lora_B->weight.copy_(torch::randn({6, 3}));
    const torch::Tensor x = torch::randn({2, 5, 8});
    const torch::Tensor A = lora->lora_A->weight, B = lora->lora_B->weight;
    const torch::Tensor expected = base(x) + 2.5 * torch::matmul(torch::matmul(x, A.t()), B.t());
    EXPECT_LE((lora(x) - expected).abs().max().item<double>(), 1e-5) << "quantize " << quantize;
  }
}

TEST(LoRALinear, MergedWeightFoldsTheAdapterIn) {
  BitLinear base = random_bit_linear(true);
  LoRALinear lora = adapter_on(base, 0.5);
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::equal(base->merged_weight(), base->weight));
  lora->lora_B->weight.copy_(torch::randn({6, 3}));
  const torch::Tensor expected = base->weight + 0.5 * torch::matmul(lora->lora_B->weight, lora->lora_A->weight);
  EXPECT_LE((lora->merged_weight() - expected).abs().max().item<double>(), 1e-6);
}

BitNetOptions tiny_options() {
  return BitNetOptions{.vocab_size = 32,
                       .hidden_size = 16,
                       .num_layers = 2,
                       .num_heads = 4,
                       .num_kv_heads = 2,
                       .intermediate_size = 24,
                       .init_std = 0.1};
}

BitLinear projection(BitNetLM& model, const std::string& name) {
  for (auto& [n, linear] : model->bit_linears()) {
    if (n == name) return linear;
  }
  throw std::invalid_argument("no projection " + name);
}

TEST(ReplaceProjection, KeepsTheParentsParameterNamesAndCallsTheNewModule) {
  BitNetLM model(tiny_options());
  model->reset_parameters(2);
  const torch::Tensor tokens = torch::tensor({1, 2, 3, 4, 5}).view({1, -1});
  const torch::Tensor before = model(tokens).detach();
  std::vector<std::string> expected = parameter_names(*model);

  for (auto& p : model->parameters()) p.set_requires_grad(false);
  const std::string q = "model.layers.1.self_attn.q_proj", up = "model.layers.0.mlp.up_proj";
  for (const std::string& name : {q, up}) {
    BitLinear base = projection(model, name);
    model->replace_projection(name, std::make_shared<LoRALinearImpl>(*base, LoRAOptions{.rank = 2, .scale = 1.0},
                                                                     at::detail::createCPUGenerator(3)));
    auto at = std::find(expected.begin(), expected.end(), name + ".weight");
    expected.insert(at + 1, {name + ".lora_A.weight", name + ".lora_B.weight"});
  }
  EXPECT_EQ(parameter_names(*model), expected);
  EXPECT_EQ(model->bit_linears().size(), 2u * 7);
  EXPECT_TRUE(torch::equal(model(tokens), before));  // B = 0: nothing changed yet

  // The layers call the new modules: a nonzero B changes the output, and its gradient flows
  // to the adapters only.
  auto lora = std::dynamic_pointer_cast<LoRALinearImpl>(
      model->model->layers[1]->as<DecoderLayerImpl>()->self_attn->q_proj.ptr());
  ASSERT_TRUE(lora);
  {
    torch::NoGradGuard no_grad;
    lora->lora_B->weight.fill_(0.1);
  }
  const torch::Tensor loss = model(tokens).square().mean();
  EXPECT_FALSE(torch::equal(model(tokens), before));
  loss.backward();
  EXPECT_TRUE(lora->lora_A->weight.grad().defined());
  EXPECT_TRUE(lora->lora_B->weight.grad().defined());
  EXPECT_FALSE(lora->weight.grad().defined());
  for (const auto& item : model->named_parameters()) {
    if (item.key().find(".lora_") == std::string::npos) {
      EXPECT_FALSE(item.value().grad().defined()) << item.key();
    }
  }
}

TEST(ReplaceProjection, RefusesWhatIsNotAProjectionOrHasAnotherShape) {
  BitNetLM model(tiny_options());
  BitLinear q = model->model->layers[0]->as<DecoderLayerImpl>()->self_attn->q_proj;
  auto replacement = std::make_shared<BitLinearImpl>(q->options());
  EXPECT_THROW(model->replace_projection("model.layers.0.self_attn.attn_sub_norm", replacement), std::invalid_argument);
  EXPECT_THROW(model->replace_projection("model.layers.0.input_layernorm.q_proj", replacement), std::invalid_argument);
  EXPECT_THROW(model->replace_projection("q_proj", replacement), std::invalid_argument);
  EXPECT_THROW(model->replace_projection("model.layers.0.mlp.down_proj", replacement), std::invalid_argument);
  model->replace_projection("model.layers.0.self_attn.q_proj", replacement);
  EXPECT_EQ(model->model->layers[0]->as<DecoderLayerImpl>()->self_attn->q_proj.ptr(), replacement);
}

}  // namespace
}  // namespace bitnet
