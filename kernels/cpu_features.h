// Run-time CPU feature detection (cpuid + xgetbv) and the choice of ternary kernel path.
// The library is compiled for baseline x86-64; SIMD kernels carry per-function target
// attributes and are only called when the features below say the CPU and OS support them.
#pragma once

#include <string>

namespace bitnet::kernels {

struct CpuFeatures {
  bool avx2 = false;     // AVX2 + OS saves YMM state
  bool fma = false;      // FMA3 (ymm), with the same OS support as AVX2
  bool f16c = false;     // VCVTPH2PS / VCVTPS2PH
  bool avx512f = false;  // AVX-512 Foundation + OS saves ZMM/opmask state
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512_vnni = false;  // VPDPBUSD on zmm/ymm (EVEX)
  bool avx_vnni = false;     // VPDPBUSD on ymm (VEX encoding, e.g. Alder Lake / Zen 5)
};

// Queried on the first call and kept (the features cannot change while the process runs): each
// CPUID instruction exits to the hypervisor in a virtual machine, microseconds per call.
CpuFeatures detect_cpu_features();

enum class KernelPath { scalar, avx2, avx512 };

const char* kernel_path_name(KernelPath path);
// Parses "scalar" | "avx2" | "avx512"; throws KernelError otherwise.
KernelPath parse_kernel_path(const std::string& name);

// True when the CPU can run `path` (avx512 needs F + BW + VNNI).
bool kernel_path_available(KernelPath path, const CpuFeatures& features);
bool kernel_path_available(KernelPath path);

// Best path the CPU supports, unless the environment variable BITNET_KERNEL names one; asking for
// a path this CPU cannot run (or an unknown name) throws KernelError.
KernelPath select_kernel_path();

// One line for logs/benchmarks, e.g. "avx2 avx512f avx512bw avx512vl avx512_vnni".
std::string describe_cpu_features(const CpuFeatures& features);

}  // namespace bitnet::kernels
