// CPU feature detection and BITNET_KERNEL selection: names parse, the override is honoured, and
// an unknown or unavailable path is a clear error.
#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>
#include <string>

#include "kernels/cpu_features.h"
#include "kernels/errors.h"

namespace bitnet::kernels {
namespace {

class EnvGuard {
 public:
  explicit EnvGuard(const char* value) {
    if (const char* old = std::getenv("BITNET_KERNEL")) old_ = old, had_ = true;
    if (value)
      setenv("BITNET_KERNEL", value, 1);
    else
      unsetenv("BITNET_KERNEL");
  }
  ~EnvGuard() {
    if (had_)
      setenv("BITNET_KERNEL", old_.c_str(), 1);
    else
      unsetenv("BITNET_KERNEL");
  }

 private:
  std::string old_;
  bool had_ = false;
};

TEST(CpuFeatures, NamesRoundTrip) {
  for (KernelPath p : {KernelPath::scalar, KernelPath::avx2, KernelPath::avx512})
    EXPECT_EQ(parse_kernel_path(kernel_path_name(p)), p);
  EXPECT_THROW(parse_kernel_path("sse9"), KernelError);
}

TEST(CpuFeatures, FeatureImplicationsHold) {
  const CpuFeatures f = detect_cpu_features();
  if (f.avx512bw || f.avx512vl || f.avx512_vnni) {
    EXPECT_TRUE(f.avx512f);
  }
  EXPECT_TRUE(kernel_path_available(KernelPath::scalar, f));
  EXPECT_FALSE(kernel_path_available(KernelPath::avx512, CpuFeatures{}));
  std::cout << "cpu: " << describe_cpu_features(f) << "\n";
}

TEST(CpuFeatures, DefaultIsBestAvailable) {
  EnvGuard env(nullptr);
  const CpuFeatures f = detect_cpu_features();
  const KernelPath p = select_kernel_path();
  const KernelPath expected = kernel_path_available(KernelPath::avx512, f) ? KernelPath::avx512
                              : f.avx2                                     ? KernelPath::avx2
                                                                           : KernelPath::scalar;
  EXPECT_EQ(p, expected);
}

TEST(CpuFeatures, EnvOverrideSelectsScalar) {
  EnvGuard env("scalar");
  EXPECT_EQ(select_kernel_path(), KernelPath::scalar);
}

TEST(CpuFeatures, EnvOverrideRejectsUnknownName) {
  EnvGuard env("fastest");
  try {
    select_kernel_path();
    FAIL() << "expected KernelError";
  } catch (const KernelError& e) {
    EXPECT_NE(std::string(e.what()).find("fastest"), std::string::npos);
  }
}

TEST(CpuFeatures, EnvOverrideForUnavailablePathIsAnError) {
  for (KernelPath p : {KernelPath::avx2, KernelPath::avx512}) {
    EnvGuard env(kernel_path_name(p));
    if (kernel_path_available(p)) {
      EXPECT_EQ(select_kernel_path(), p);
    } else {
      EXPECT_THROW(select_kernel_path(), KernelError);
    }
  }
}

}  // namespace
}  // namespace bitnet::kernels
