// Shared by the GPU tests (ctest label `gpu`): skip, with the reason, where no GPU can run them.
// A skipped test is reported as skipped by GoogleTest and by ctest (SKIP_REGULAR_EXPRESSION),
// never as passed.
#pragma once

#include <gtest/gtest.h>
#include <torch/torch.h>

#ifdef BITNET_WITH_CUDA
#define BITNET_REQUIRE_GPU()                                                                    \
  do {                                                                                          \
    if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA GPU is visible to this process"; \
  } while (0)
#else
#define BITNET_REQUIRE_GPU() GTEST_SKIP() << "this build has no CUDA support (BITNET_CUDA off or no nvcc)"
#endif
