// Where training runs: `train.device` (auto | cpu | cuda | cuda:N) resolved against the devices
// this process sees, and the few device-specific steps of the loop (host-to-device batch copies,
// synchronisation for timing, peak memory). Checkpoints never depend on the device: tensors are
// written from the host in fp32 (layers/tensor_io.h).
#pragma once

#include <cstdint>
#include <string>

#include <torch/torch.h>

#include "trainer/config.h"

namespace bitnet {

// The device for `name` (validated by the config: auto, cpu, cuda, cuda:N). `auto` is the GPU
// `local_rank` % count when any is visible, else the CPU; `cuda` is GPU `local_rank` (one rank per
// GPU, as torchrun launches them). Throws std::runtime_error when the GPU asked for is not there.
torch::Device resolve_training_device(const DeviceSetting& setting, int64_t local_rank = 0);

// distributed.backend with `auto` resolved: NCCL for a GPU device, Gloo for the CPU.
DistributedBackend resolve_distributed_backend(DistributedBackend backend, const torch::Device& device);

// Sets up the device for a run: makes it current and, with deterministic algorithms on a GPU,
// sets CUBLAS_WORKSPACE_CONFIG (cuBLAS is otherwise free to reorder its sums) unless the user did.
void prepare_device(const torch::Device& device, bool deterministic);

// A host tensor on `device`: through pinned memory and an asynchronous copy for a GPU, the tensor
// itself for the CPU.
torch::Tensor to_device(const torch::Tensor& host, const torch::Device& device);

// Waits for the device's queued work (for timing); nothing on the CPU.
void synchronize(const torch::Device& device);

// Bytes the caching allocator held at most on `device` since the last reset (0 on the CPU), and
// the reset.
int64_t peak_device_memory(const torch::Device& device);
void reset_peak_device_memory(const torch::Device& device);

// The matmul dtype of train.precision on `device`: bf16 or fp32 as named; `auto` is bf16 where bf16
// matmuls are native (a GPU; a CPU with AVX512-BF16) and fp32 elsewhere, where LibTorch emulates
// bf16 matmuls at a small fraction of fp32's speed (measured on an AVX2-only CPU: 2 vs 132 GFLOP/s).
torch::Dtype compute_dtype_for(Precision precision, const torch::Device& device);

// "bf16" or "fp32" as resolved, with "(auto)" when train.precision was auto.
std::string describe_precision(Precision precision, const torch::Device& device);

// "cpu (AMX)", "cpu (AVX512-BF16)", "cpu" or "cuda:0 (NVIDIA H200)", for start tables and benchmarks:
// on the CPU, what its bf16 products run on (cpu_flash_attention.h).
std::string describe_device(const torch::Device& device);

}  // namespace bitnet
