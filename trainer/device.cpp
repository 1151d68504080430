// Training devices (see device.h). The CUDA calls are compiled only in CUDA builds
// (BITNET_WITH_CUDA); a CPU build refuses a GPU device with a message saying why.
#include "trainer/device.h"

#include <cstdlib>
#include <stdexcept>

#include "layers/cpu_flash_attention.h"

#ifdef BITNET_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#include <cuda_runtime_api.h>
#endif

namespace bitnet {
namespace {

int64_t visible_gpus() {
  return static_cast<int64_t>(torch::cuda::device_count());
}

std::string no_gpu_reason() {
#ifdef BITNET_WITH_CUDA
  return "no CUDA GPU is visible to this process (check nvidia-smi and CUDA_VISIBLE_DEVICES)";
#else
  return "this build has no CUDA support (rebuild with a CUDA LibTorch and nvcc, -DBITNET_CUDA=ON)";
#endif
}

}  // namespace

torch::Device resolve_training_device(const DeviceSetting& setting, int64_t local_rank) {
  const int64_t count = visible_gpus();
  if (setting.kind == DeviceKind::kCpu) return torch::Device(torch::kCPU);
  if (setting.kind == DeviceKind::kAuto) {
    if (count == 0) return torch::Device(torch::kCPU);
    return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(local_rank % count));
  }
  const int64_t index = setting.index >= 0 ? setting.index : local_rank;
  const std::string name = device_setting_name(setting);
  if (count == 0) throw std::runtime_error("train.device=" + name + ": " + no_gpu_reason() + "; use train.device=cpu");
  if (index >= count) {
    throw std::runtime_error(
        "train.device=" + name + (setting.index < 0 ? " (LOCAL_RANK " + std::to_string(local_rank) + ")" : "") +
        ": GPU " + std::to_string(index) + " does not exist, this process sees " + std::to_string(count) + " GPU(s)");
  }
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
}

DistributedBackend resolve_distributed_backend(DistributedBackend backend, const torch::Device& device) {
  if (backend != DistributedBackend::kAuto) return backend;
  return device.is_cuda() ? DistributedBackend::kNccl : DistributedBackend::kGloo;
}

void prepare_device(const torch::Device& device, bool deterministic) {
  if (!device.is_cuda()) return;
#ifdef BITNET_WITH_CUDA
  // cuBLAS reads this when it creates its handle: before the first matmul.
  if (deterministic) setenv("CUBLAS_WORKSPACE_CONFIG", ":4096:8", /*overwrite=*/0);
  c10::cuda::set_device(device.index());
#else
  (void)deterministic;
#endif
}

torch::Tensor to_device(const torch::Tensor& host, const torch::Device& device) {
  if (device.is_cpu()) return host;
  return host.pin_memory().to(device, /*non_blocking=*/true);
}

void synchronize(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

int64_t peak_device_memory(const torch::Device& device) {
#ifdef BITNET_WITH_CUDA
  if (device.is_cuda()) {
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device.index());
    return stats.reserved_bytes[static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE)].peak;
  }
#endif
  (void)device;
  return 0;
}

void reset_peak_device_memory(const torch::Device& device) {
#ifdef BITNET_WITH_CUDA
  if (device.is_cuda()) c10::cuda::CUDACachingAllocator::resetPeakStats(device.index());
#endif
  (void)device;
}

torch::Dtype compute_dtype_for(Precision precision, const torch::Device& device) {
  if (precision == Precision::kBf16) return torch::kBFloat16;
  if (precision == Precision::kFp32) return torch::kFloat;
  // On the CPU, auto is bf16 exactly where our bf16 attention runs (AVX512-BF16): one check
  // decides both.
  return device.is_cuda() || cpu_computes_bf16_natively() ? torch::kBFloat16 : torch::kFloat;
}

std::string describe_precision(Precision precision, const torch::Device& device) {
  const std::string name = compute_dtype_for(precision, device) == torch::kBFloat16 ? "bf16" : "fp32";
  return precision == Precision::kAuto ? name + " (auto)" : name;
}

std::string describe_device(const torch::Device& device) {
#ifdef BITNET_WITH_CUDA
  if (device.is_cuda()) {
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, device.index()) == cudaSuccess) return device.str() + " (" + prop.name + ")";
  }
#endif
  // The CPU's bf16 instructions decide both the precision `auto` picks and the attention's speed.
  const std::string bf16 = device.is_cpu() ? cpu_bf16_products() : "";
  return bf16.empty() ? device.str() : device.str() + " (" + bf16 + ")";
}

}  // namespace bitnet
