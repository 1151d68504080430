// cpuid/xgetbv based feature detection and BITNET_KERNEL path selection.
#include "kernels/cpu_features.h"

#include <cpuid.h>

#include <cstdint>
#include <cstdlib>

#include "kernels/errors.h"

namespace bitnet::kernels {
namespace {

struct CpuidRegs {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
};

CpuidRegs cpuid(unsigned leaf, unsigned subleaf) {
  CpuidRegs r;
  __cpuid_count(leaf, subleaf, r.eax, r.ebx, r.ecx, r.edx);
  return r;
}

// XCR0 tells which register states the OS saves on context switch; a CPU feature is usable only
// if the OS saves its registers too.
uint64_t read_xcr0() {
  uint32_t lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

bool bit(unsigned reg, int b) {
  return ((reg >> b) & 1u) != 0;
}

}  // namespace

namespace {

CpuFeatures query_cpu_features() {
  CpuFeatures f;
  const unsigned max_leaf = __get_cpuid_max(0, nullptr);
  if (max_leaf < 1) return f;
  const CpuidRegs l1 = cpuid(1, 0);
  const bool osxsave = bit(l1.ecx, 27);
  const bool avx = bit(l1.ecx, 28);
  if (!osxsave || !avx) return f;
  const uint64_t xcr0 = read_xcr0();
  const bool os_ymm = (xcr0 & 0x6) == 0x6;    // SSE + AVX state
  const bool os_zmm = (xcr0 & 0xE6) == 0xE6;  // + opmask, ZMM_Hi256, Hi16_ZMM
  if (!os_ymm) return f;
  f.fma = bit(l1.ecx, 12);
  f.f16c = bit(l1.ecx, 29);
  if (max_leaf < 7) return f;
  const CpuidRegs l7 = cpuid(7, 0);
  f.avx2 = bit(l7.ebx, 5);
  if (os_zmm) {
    f.avx512f = bit(l7.ebx, 16);
    f.avx512bw = f.avx512f && bit(l7.ebx, 30);
    f.avx512vl = f.avx512f && bit(l7.ebx, 31);
    f.avx512_vnni = f.avx512f && bit(l7.ecx, 11);
  }
  if (l7.eax >= 1) {
    const CpuidRegs l71 = cpuid(7, 1);
    f.avx_vnni = bit(l71.eax, 4);
  }
  return f;
}

}  // namespace

// Queried once: in a virtual machine every CPUID instruction exits to the hypervisor (7.6 us each
// on the development VM), and the LM head asked on every call, once per decoded token.
CpuFeatures detect_cpu_features() {
  static const CpuFeatures features = query_cpu_features();
  return features;
}

const char* kernel_path_name(KernelPath path) {
  switch (path) {
    case KernelPath::scalar:
      return "scalar";
    case KernelPath::avx2:
      return "avx2";
    case KernelPath::avx512:
      return "avx512";
  }
  return "unknown";
}

KernelPath parse_kernel_path(const std::string& name) {
  if (name == "scalar") return KernelPath::scalar;
  if (name == "avx2") return KernelPath::avx2;
  if (name == "avx512") return KernelPath::avx512;
  throw KernelError("unknown kernel path '" + name + "': expected scalar, avx2 or avx512");
}

bool kernel_path_available(KernelPath path, const CpuFeatures& f) {
  switch (path) {
    case KernelPath::scalar:
      return true;
    case KernelPath::avx2:
      return f.avx2;
    case KernelPath::avx512:
      return f.avx512f && f.avx512bw && f.avx512_vnni;
  }
  return false;
}

bool kernel_path_available(KernelPath path) {
  return kernel_path_available(path, detect_cpu_features());
}

KernelPath select_kernel_path() {
  const CpuFeatures f = detect_cpu_features();
  if (const char* env = std::getenv("BITNET_KERNEL"); env != nullptr && *env != '\0') {
    const KernelPath wanted = parse_kernel_path(env);
    if (!kernel_path_available(wanted, f)) {
      throw KernelError(std::string("BITNET_KERNEL=") + env + " asks for a kernel this CPU cannot run (CPU has: " +
                        describe_cpu_features(f) + "); unset it or choose scalar");
    }
    return wanted;
  }
  if (kernel_path_available(KernelPath::avx512, f)) return KernelPath::avx512;
  if (kernel_path_available(KernelPath::avx2, f)) return KernelPath::avx2;
  return KernelPath::scalar;
}

std::string describe_cpu_features(const CpuFeatures& f) {
  std::string s;
  auto add = [&s](bool on, const char* name) {
    if (!on) return;
    if (!s.empty()) s += ' ';
    s += name;
  };
  add(f.avx2, "avx2");
  add(f.fma, "fma");
  add(f.f16c, "f16c");
  add(f.avx512f, "avx512f");
  add(f.avx512bw, "avx512bw");
  add(f.avx512vl, "avx512vl");
  add(f.avx512_vnni, "avx512_vnni");
  add(f.avx_vnni, "avx_vnni");
  return s.empty() ? std::string("baseline x86-64 only") : s;
}

}  // namespace bitnet::kernels
