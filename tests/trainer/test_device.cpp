// Devices and precision on the CPU: `auto` picks bf16 exactly where the bf16 attention runs, and
// the start table's device names what the bf16 products run on.
#include <gtest/gtest.h>

#include "layers/attention_tiles.h"
#include "layers/cpu_flash_attention.h"
#include "trainer/device.h"

namespace bitnet {
namespace {

TEST(Device, AutoPrecisionOnTheCpuFollowsItsBf16Instructions) {
  const torch::Device cpu(torch::kCPU);
  const bool native = attention_tiles::cpu_has_avx512_bf16();
  EXPECT_EQ(compute_dtype_for(Precision::kAuto, cpu), native ? torch::kBFloat16 : torch::kFloat);
  EXPECT_EQ(compute_dtype_for(Precision::kBf16, cpu), torch::kBFloat16);
  EXPECT_EQ(compute_dtype_for(Precision::kFp32, cpu), torch::kFloat);
  EXPECT_EQ(describe_precision(Precision::kAuto, cpu), native ? "bf16 (auto)" : "fp32 (auto)");
  EXPECT_EQ(describe_precision(Precision::kFp32, cpu), "fp32");
}

TEST(Device, CpuNameSaysWhatItsBf16ProductsRunOn) {
  const std::string name = describe_device(torch::Device(torch::kCPU));
  if (!attention_tiles::cpu_has_avx512_bf16())
    EXPECT_EQ(name, "cpu");
  else if (attention_tiles::cpu_has_amx_bf16())
    EXPECT_EQ(name, "cpu (AMX)");
  else
    EXPECT_EQ(name, "cpu (AVX512-BF16)");
  EXPECT_EQ(name == "cpu", std::string(cpu_bf16_products()).empty());
}

}  // namespace
}  // namespace bitnet
