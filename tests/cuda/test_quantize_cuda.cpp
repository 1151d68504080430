// The fused CUDA quantizers against the LibTorch-op reference (layers/quantize.h), which is the
// CPU path. The int8 activation quantizer must match bit for bit: absmax is a max (no order
// dependence) and both sides compute s = 127 / absmax, x·s, rint and q / s as single IEEE fp32
// operations. The ternary scale comes from a different reduction (fp64 partial sums on the GPU,
// LibTorch's fp32 mean on the CPU), so it may differ in its last bits: we require |Δs|/s <= 2^-20
// and then check the codes and values against the reference formula evaluated with the GPU's
// own scale, bit for bit.
#include "tests/cuda/gpu_test.h"

#include <cmath>

#include "layers/quantize.h"
#ifdef BITNET_WITH_CUDA
#include "cuda/quantize_cuda.h"
#endif

namespace bitnet {
namespace {

#ifdef BITNET_WITH_CUDA
// Inputs with the awkward cases: .5 ties after scaling, an all-zero row, tiny and huge values.
torch::Tensor awkward_rows(int64_t rows, int64_t n, uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  torch::Tensor x = torch::randn({rows, n}, gen) * 3.0;
  if (rows > 1) x[1].zero_();
  if (rows > 2 && n > 2) {
    x[2].fill_(0.5);
    x[2][0] = 127.0;  // s = 1: every 0.5 is a tie that rounds to even (0)
  }
  if (rows > 3) x[3].mul_(1e-7);
  return x;
}
#endif

TEST(QuantizeCuda, Int8ActivationMatchesTheReferenceBitForBit) {
  BITNET_REQUIRE_GPU();
#ifdef BITNET_WITH_CUDA
  const torch::Device gpu(torch::kCUDA, 0);
  for (const auto& [rows, n] :
       std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {4, 7}, {17, 255}, {33, 2560}, {5, 6912}}) {
    for (torch::Dtype in : {torch::kFloat, torch::kBFloat16}) {
      for (torch::Dtype out : {torch::kFloat, torch::kBFloat16}) {
        const torch::Tensor x = awkward_rows(rows, n, uint64_t(rows * 131 + n)).to(in);
        const torch::Tensor expected = int8_activation_fake_quant(x).to(out);
        const torch::Tensor got = cuda::int8_activation_fake_quant(x.to(gpu), out).cpu();
        EXPECT_TRUE(torch::equal(got, expected)) << rows << "x" << n << " in " << in << " out " << out;
        // The dispatcher sends GPU tensors to the kernel.
        EXPECT_TRUE(torch::equal(int8_activation_fake_quant_fused(x.to(gpu), out).cpu(), expected));
      }
    }
  }
  // (B, T, C) input: one row per token.
  const torch::Tensor x3 = torch::randn({2, 5, 64});
  EXPECT_TRUE(
      torch::equal(cuda::int8_activation_fake_quant(x3.to(gpu), torch::kFloat).cpu(), int8_activation_fake_quant(x3)));
#endif
}

TEST(QuantizeCuda, TernaryScaleWithinTwoToTheMinus20AndCodesExactForItsScale) {
  BITNET_REQUIRE_GPU();
#ifdef BITNET_WITH_CUDA
  const torch::Device gpu(torch::kCUDA, 0);
  for (const auto& [out_f, in_f] :
       std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {3, 7}, {64, 256}, {640, 2560}, {2560, 6912}}) {
    for (torch::Dtype dtype : {torch::kFloat, torch::kBFloat16}) {
      const torch::Tensor w = (torch::randn({out_f, in_f}) * 0.02).to(dtype);
      const double s_ref = ternary_weight_scale(w).item<double>();
      const torch::Tensor s_gpu = cuda::ternary_weight_scale(w.to(gpu)).cpu();
      EXPECT_LE(std::fabs(s_gpu.item<double>() - s_ref) / s_ref, std::ldexp(1.0, -20)) << out_f << "x" << in_f;
      // The reference formula with the GPU's scale, evaluated on the CPU in fp32.
      const torch::Tensor wf = w.to(torch::kFloat);
      const torch::Tensor expected = (wf * s_gpu).round().clamp(-1, 1) / s_gpu;
      for (torch::Dtype out : {torch::kFloat, torch::kBFloat16}) {
        const torch::Tensor got = cuda::ternary_weight_fake_quant(w.to(gpu), out).cpu();
        EXPECT_TRUE(torch::equal(got, expected.to(out))) << out_f << "x" << in_f << " out " << out;
      }
      // Against the full reference: codes differ only where w·s sits within the scale's error of
      // a rounding boundary, which random weights essentially never hit.
      const torch::Tensor ref = ternary_weight_fake_quant(w);
      const double same = (cuda::ternary_weight_fake_quant(w.to(gpu), torch::kFloat).cpu().sign() == ref.sign())
                              .to(torch::kDouble)
                              .mean()
                              .item<double>();
      EXPECT_GE(same, 0.9999);
    }
  }
  // All zeros: the scale is 1 / eps and every value is 0, as in the reference.
  const torch::Tensor zeros = torch::zeros({4, 8});
  EXPECT_FLOAT_EQ(cuda::ternary_weight_scale(zeros.to(gpu)).item<float>(), ternary_weight_scale(zeros).item<float>());
  EXPECT_TRUE(torch::equal(cuda::ternary_weight_fake_quant(zeros.to(gpu), torch::kFloat).cpu(), zeros));
#endif
}

TEST(QuantizeCuda, NaNsStayNaNAsOnTheCpu) {
  BITNET_REQUIRE_GPU();
#ifdef BITNET_WITH_CUDA
  const torch::Device gpu(torch::kCUDA, 0);
  // int8: the NaN stays where it is and the absmax leaves it out, as the fused CPU pass does.
  torch::Tensor x = torch::randn({3, 300});
  x[1][17] = NAN;
  for (torch::Dtype out : {torch::kFloat, torch::kBFloat16}) {
    const torch::Tensor want = int8_activation_fake_quant_fused(x, out);
    const torch::Tensor got = cuda::int8_activation_fake_quant(x.to(gpu), out).cpu();
    EXPECT_TRUE(torch::equal(got.isnan(), want.isnan())) << out;
    EXPECT_TRUE(torch::equal(got.nan_to_num(0), want.nan_to_num(0))) << out;
  }
  // Ternary: a NaN weight makes the scale NaN and every value NaN, as the reference gives.
  torch::Tensor w = torch::randn({16, 64}) * 0.02;
  w[3][9] = NAN;
  EXPECT_TRUE(std::isnan(cuda::ternary_weight_scale(w.to(gpu)).item<float>()));
  for (torch::Dtype out : {torch::kFloat, torch::kBFloat16}) {
    EXPECT_TRUE(cuda::ternary_weight_fake_quant(w.to(gpu), out).isnan().all().item<bool>()) << out;
  }
  EXPECT_TRUE(ternary_weight_fake_quant(w).isnan().all().item<bool>());
#endif
}

TEST(QuantizeCuda, TernaryReductionIsDeterministic) {
  BITNET_REQUIRE_GPU();
#ifdef BITNET_WITH_CUDA
  const torch::Tensor w = torch::randn({2560, 6912}, torch::Device(torch::kCUDA, 0));
  const torch::Tensor a = cuda::ternary_weight_scale(w), b = cuda::ternary_weight_scale(w);
  EXPECT_TRUE(torch::equal(a, b));
  EXPECT_TRUE(torch::equal(cuda::ternary_weight_fake_quant(w, torch::kBFloat16),
                           cuda::ternary_weight_fake_quant(w, torch::kBFloat16)));
#endif
}

TEST(QuantizeCuda, StraightThroughGradientsPassUnchanged) {
  BITNET_REQUIRE_GPU();
#ifdef BITNET_WITH_CUDA
  const torch::Device gpu(torch::kCUDA, 0);
  torch::Tensor w = torch::randn({16, 32}, gpu).requires_grad_(true);
  torch::Tensor x = torch::randn({3, 32}, gpu).requires_grad_(true);
  const torch::Tensor gw = torch::randn({16, 32}, gpu), gx = torch::randn({3, 32}, gpu);
  ((ternary_weight_ste(w, 1.0, torch::kBFloat16).to(torch::kFloat) * gw).sum() +
   (int8_activation_ste(x, 1.0, torch::kBFloat16).to(torch::kFloat) * gx).sum())
      .backward();
  // The gradient reaching the fp32 latents is the upstream gradient rounded through bf16.
  EXPECT_TRUE(torch::equal(w.grad(), gw.to(torch::kBFloat16).to(torch::kFloat)));
  EXPECT_TRUE(torch::equal(x.grad(), gx.to(torch::kBFloat16).to(torch::kFloat)));
  EXPECT_EQ(w.grad().scalar_type(), torch::kFloat);
#endif
}

}  // namespace
}  // namespace bitnet
