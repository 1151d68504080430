// Quantizers on hand-computed cases (docs/architecture.md) and their straight-through gradients.
#include <gtest/gtest.h>

#include <cmath>

#include "layers/quantize.h"

namespace bitnet {
namespace {

std::vector<float> values(const torch::Tensor& t) {
  torch::Tensor c = t.to(torch::kFloat).contiguous();
  return {c.data_ptr<float>(), c.data_ptr<float>() + c.numel()};
}

// Bit patterns of an fp32 or bf16 tensor, so that -0 and +0 (and NaN payloads) differ.
torch::Tensor bits(const torch::Tensor& t) {
  return t.scalar_type() == torch::kFloat ? t.view(torch::kInt32) : t.view(torch::kInt16);
}

// A fused quantizer against its tensor formula (fp32), bit for bit, with fp32 and bf16 inputs and
// both output dtypes.
void expect_fused_equals_formula(torch::Tensor (*fused)(const torch::Tensor&, torch::Dtype),
                                 torch::Tensor (*formula)(const torch::Tensor&), const torch::Tensor& x) {
  for (torch::Dtype in : {torch::kFloat, torch::kBFloat16}) {
    torch::Tensor xi = x.to(in);
    torch::Tensor reference = formula(xi);  // fp32
    EXPECT_TRUE(torch::equal(bits(fused(xi, torch::kFloat)), bits(reference)));
    EXPECT_TRUE(torch::equal(bits(fused(xi, torch::kBFloat16)), bits(reference.to(torch::kBFloat16))));
  }
}

TEST(TernaryQuant, HandComputedCodesScaleAndFakeQuant) {
  // mean|W| = (0.5 + 1.5 + 0.25 + 3) / 4 = 1.3125, s_w = 1 / 1.3125.
  // W * s_w = [0.381, -1.143, 0.190, 2.286] -> round [0, -1, 0, 2] -> clamp [0, -1, 0, 1].
  torch::Tensor w = torch::tensor({0.5f, -1.5f, 0.25f, 3.0f}).view({2, 2});
  EXPECT_FLOAT_EQ(ternary_weight_scale(w).item<float>(), 1.0f / 1.3125f);
  EXPECT_EQ(values(ternary_weight_codes(w)), (std::vector<float>{0, -1, 0, 1}));
  EXPECT_EQ(values(ternary_weight_fake_quant(w)), (std::vector<float>{0, -1.3125f, 0, 1.3125f}));
}

TEST(TernaryQuant, TiesRoundHalfToEven) {
  // mean|W| = 1 so W * s_w = W: 0.5 -> 0, -0.5 -> -0, ±1.5 -> ±2 -> clamp ±1, 2.5 -> 2 -> clamp 1.
  torch::Tensor w = torch::tensor({0.5f, -0.5f, 1.5f, -1.5f, 0.5f, 0.0f, 1.0f, 2.5f});  // sum |W| = 8
  EXPECT_EQ(values(ternary_weight_codes(w)), (std::vector<float>{0, 0, 1, -1, 0, 0, 1, 1}));
}

TEST(TernaryQuant, AllZeroWeightUsesEpsilonAndGivesZeros) {
  torch::Tensor w = torch::zeros({3, 5});
  EXPECT_FLOAT_EQ(ternary_weight_scale(w).item<float>(), 1.0f / 1e-5f);
  EXPECT_EQ(ternary_weight_codes(w).abs().sum().item<int64_t>(), 0);
  EXPECT_EQ(ternary_weight_fake_quant(w).abs().sum().item<float>(), 0.0f);
}

TEST(TernaryQuant, ClampsLargeValuesToPlusMinusOne) {
  torch::Tensor w = torch::tensor({100.0f, -100.0f, 0.1f, -0.1f});
  // mean = 50.05: 100 / 50.05 ≈ 1.998 -> 2 -> 1; 0.1 / 50.05 ≈ 0.002 -> 0.
  EXPECT_EQ(values(ternary_weight_codes(w)), (std::vector<float>{1, -1, 0, 0}));
}

TEST(TernaryQuant, FusedPassEqualsTheTensorFormulaBitForBit) {
  torch::manual_seed(6);
  // 3 * 4099 elements: the parallel chunks of 4096 and a tail that is not a multiple of 8.
  torch::Tensor w = torch::randn({3, 4099}) * 0.02;
  // Make mean|W| exactly 1 (every other element zero but these), so W * s_w = W and halves are ties:
  // they round to even, and small negatives to -0.
  torch::Tensor ties = torch::zeros({16, 64});
  const float exact[] = {0.5f, -0.5f, 1.5f, -1.5f, 2.5f, -0.25f, 0.75f, -3.0f};
  float sum = 0.0f;
  for (int j = 0; j < 8; ++j) {
    ties[0][j] = exact[j];
    sum += std::fabs(exact[j]);
  }
  ties[1][0] = static_cast<float>(ties.numel()) - sum;  // the rest of the total |W| = numel
  for (const torch::Tensor& weight : {w, ties, w.t(), torch::zeros({4, 8})}) {
    expect_fused_equals_formula(ternary_weight_fake_quant_fused, ternary_weight_fake_quant, weight);
  }
  const torch::Tensor row = ternary_weight_fake_quant_fused(ties, torch::kFloat)[0];
  EXPECT_EQ(values(row.slice(0, 0, 8)), (std::vector<float>{0, -0.0f, 1, -1, 1, -0.0f, 1, -1}));
  EXPECT_TRUE(std::signbit(row[1].item<float>()));
  // A NaN weight makes the scale NaN, and every output NaN, as the tensor formula gives.
  torch::Tensor nan = w.clone();
  nan[1][5] = NAN;
  EXPECT_TRUE(ternary_weight_fake_quant_fused(nan, torch::kBFloat16).isnan().all().item<bool>());
}

TEST(Int8Quant, HandComputedPerTokenWithTies) {
  // Row 0: absmax 254 -> s = 127 / 254 = 0.5: [254, 1, -3, 5] * 0.5 = [127, 0.5, -1.5, 2.5]
  //        -> half-to-even [127, 0, -2, 2].
  // Row 1: absmax 1 -> s = 127: [1, -0.5, 0.25, 0] * 127 = [127, -63.5, 31.75, 0] -> [127, -64, 32, 0].
  torch::Tensor x = torch::tensor({254.0f, 1.0f, -3.0f, 5.0f, 1.0f, -0.5f, 0.25f, 0.0f}).view({2, 4});
  EXPECT_EQ(values(int8_activation_scale(x)), (std::vector<float>{0.5f, 127.0f}));
  EXPECT_EQ(values(int8_activation_codes(x)), (std::vector<float>{127, 0, -2, 2, 127, -64, 32, 0}));
  std::vector<float> fq = values(int8_activation_fake_quant(x));
  EXPECT_FLOAT_EQ(fq[0], 254.0f);
  EXPECT_FLOAT_EQ(fq[2], -4.0f);
  EXPECT_FLOAT_EQ(fq[5], -64.0f / 127.0f);
}

TEST(Int8Quant, AllZeroTokenAndNegativeExtreme) {
  torch::Tensor x = torch::tensor({0.0f, 0.0f, -8.0f, 4.0f}).view({2, 2});
  EXPECT_FLOAT_EQ(int8_activation_scale(x)[0][0].item<float>(), 127.0f / 1e-5f);
  // The most negative value maps to -127 (the -128 clamp is a guard that symmetric scaling never hits).
  EXPECT_EQ(values(int8_activation_codes(x)), (std::vector<float>{0, 0, -127, 64}));
}

TEST(Int8Quant, FusedPassEqualsTheTensorFormulaBitForBit) {
  torch::manual_seed(5);
  torch::Tensor x = torch::randn({37, 300}) * 3;
  x[4].zero_();   // all-zero token
  x[9][7] = 1e6;  // one huge outlier
  // A token whose scale is exactly 1: halves round to even, and small negatives to -0.
  x[11].zero_();
  x[11][0] = 127.0f;
  const float halves[] = {0.5f, 1.5f, 2.5f, -0.5f, -2.5f, -0.25f, 126.5f, -126.5f};
  for (int j = 0; j < 8; ++j) x[11][j + 1] = halves[j];
  expect_fused_equals_formula(int8_activation_fake_quant_fused, int8_activation_fake_quant, x);
  // The row's absmax in every lane position and in the tail past the last 8 (300 = 37 * 8 + 4).
  for (int64_t at : {0, 3, 4, 7, 150, 297, 299}) {
    torch::Tensor t = torch::full({1, 300}, 0.25f);
    t[0][at] = -5.0f;
    for (torch::Dtype in : {torch::kFloat, torch::kBFloat16}) {
      torch::Tensor ti = t.to(in);
      EXPECT_TRUE(
          torch::equal(bits(int8_activation_fake_quant_fused(ti, torch::kFloat)), bits(int8_activation_fake_quant(ti))))
          << "absmax at " << at;
    }
  }
  const torch::Tensor row = int8_activation_fake_quant_fused(x[11].unsqueeze(0), torch::kFloat)[0];
  EXPECT_EQ(values(row.slice(0, 1, 9)), (std::vector<float>{0, 2, 2, -0.0f, -2, -0.0f, 126, -126}));
  EXPECT_TRUE(std::signbit(row[4].item<float>()));
}

TEST(Int8Quant, FusedPassKeepsANaNAndTheTokenMatmulsToNaN) {
  torch::manual_seed(8);
  torch::Tensor x = torch::randn({3, 40}) * 2;
  x[1][17] = NAN;
  torch::Tensor without_nan = x.clone();
  without_nan[1][17] = 0.0f;  // below the row's absmax: the scale the fused pass uses for the NaN row
  const torch::Tensor w = torch::randn({8, 40});
  for (torch::Dtype in : {torch::kFloat, torch::kBFloat16}) {
    for (torch::Dtype out : {torch::kFloat, torch::kBFloat16}) {
      const torch::Tensor fused = int8_activation_fake_quant_fused(x.to(in), out);
      EXPECT_TRUE(std::isnan(fused[1][17].item<float>())) << in << " -> " << out;
      EXPECT_EQ(fused.isnan().sum().item<int64_t>(), 1);
      // The other tokens are the formula's bit for bit; the NaN token's other values are its
      // quantization with the NaN left out of the absmax.
      const torch::Tensor formula = int8_activation_fake_quant(x.to(in)).to(out);
      for (int64_t row : {0, 2}) EXPECT_TRUE(torch::equal(bits(fused[row]), bits(formula[row])));
      const torch::Tensor rest = int8_activation_fake_quant(without_nan.to(in)).to(out)[1];
      EXPECT_TRUE(torch::equal(bits(fused[1].slice(0, 0, 17)), bits(rest.slice(0, 0, 17))));
      EXPECT_TRUE(torch::equal(bits(fused[1].slice(0, 18)), bits(rest.slice(0, 18))));
      // Through a projection, every output of the NaN token is NaN, as with the formula.
      const torch::Tensor y = torch::nn::functional::linear(fused.to(torch::kFloat), w);
      const torch::Tensor y_formula = torch::nn::functional::linear(formula.to(torch::kFloat), w);
      EXPECT_TRUE(torch::equal(y.isnan(), y_formula.isnan()));
      EXPECT_TRUE(y[1].isnan().all().item<bool>());
    }
  }
}

TEST(StraightThrough, ActivationGradientKeepsInputDtype) {
  torch::Tensor x = torch::randn({3, 8}).to(torch::kBFloat16).requires_grad_();
  torch::Tensor g = torch::randn({3, 8}).to(torch::kBFloat16);
  torch::Tensor y = int8_activation_ste(x, 1.0, torch::kBFloat16);
  EXPECT_EQ(y.scalar_type(), torch::kBFloat16);
  (y * g).sum().backward();
  EXPECT_TRUE(torch::equal(x.grad(), g));
}

TEST(StraightThrough, GradientsPassUnchanged) {
  torch::Tensor w = torch::randn({4, 8}, torch::requires_grad());
  torch::Tensor x = torch::randn({3, 8}, torch::requires_grad());
  torch::Tensor gw = torch::randn({4, 8});
  torch::Tensor gx = torch::randn({3, 8});
  ((ternary_weight_ste(w, 1.0) * gw).sum() + (int8_activation_ste(x, 1.0) * gx).sum()).backward();
  EXPECT_TRUE(torch::equal(w.grad(), gw));
  EXPECT_TRUE(torch::equal(x.grad(), gx));
}

TEST(StraightThrough, LambdaBlendsLatentAndQuantized) {
  torch::Tensor w = torch::randn({4, 8});
  torch::Tensor wq = ternary_weight_fake_quant(w);
  EXPECT_TRUE(torch::allclose(ternary_weight_ste(w, 0.25), w + 0.25 * (wq - w)));
  EXPECT_TRUE(torch::equal(ternary_weight_ste(w, 1.0), wq));
  EXPECT_TRUE(torch::equal(ternary_weight_ste(w, 0.0), w));
}

}  // namespace
}  // namespace bitnet
