// Training benchmark (see bench_train.h); the FLOPs counted per step are model_flops_per_step's
// (bench_step_timing.h).
#include "trainer/bench_train.h"

#include <sys/resource.h>

#include <algorithm>
#include <cstdlib>
#include <thread>

#include "trainer/bench_step_timing.h"
#include "trainer/competing_load.h"
#include "trainer/console.h"
#include "trainer/device.h"
#include "trainer/host_memory.h"

namespace bitnet {
namespace {

// How OpenMP threads wait at barriers in this process (libgomp read it when it was loaded).
std::string omp_wait_policy() {
  const char* policy = std::getenv("OMP_WAIT_POLICY");
  const char* spin = std::getenv("GOMP_SPINCOUNT");
  if (policy) return std::string("OMP_WAIT_POLICY=") + policy;
  if (spin) return std::string("GOMP_SPINCOUNT=") + spin;
  return "libgomp default (spin, then sleep)";
}

}  // namespace

void bench_train(const RunConfig& config, const BenchTrainOptions& options, std::FILE* out) {
  const int64_t threads = config.train.threads > 0 ? config.train.threads : std::thread::hardware_concurrency();
  at::set_num_threads(static_cast<int>(threads));
  const torch::Device device = resolve_training_device(config.train.device);
  prepare_device(device, config.train.deterministic);

  const StepFigures f = measure_steps(config, options.warmup_steps, options.measured_steps, device);
  const double ms = median(f.step_ms);
  const int64_t tokens_per_step = config.train.micro_batch * config.data.seq_len * config.train.grad_accum;
  const double flops_per_step = model_flops_per_step(config, f);
  const torch::Dtype dtype = compute_dtype_for(config.train.precision, device);
  const std::string precision = describe_precision(config.train.precision, device);
  const double peak = matmul_flops_per_second(f.shapes, config.train.micro_batch * config.data.seq_len, dtype, device);
  const double achieved = flops_per_step / (ms / 1000.0);

  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::fprintf(
      out,
      "bench train %s: %s, %s, %lld thread(s), OpenMP waiting %s\n"
      "  memory           %s\n"
      "  model            %s parameters (%s in matmuls), %s\n"
      "  step             %s tokens (micro-batch %lld x seq %lld x accum %lld)\n"
      "  step time        %.1f ms median of %lld steps after %lld warm-up (min %.1f, max %.1f)\n"
      "  throughput       %s tokens/s\n"
      "  model FLOPs      %.2f GFLOP/step, %.1f GFLOP/s achieved\n"
      "  %s matmul       %.1f GFLOP/s (best of the model's projection shapes, same run)\n"
      "  MFU              %.1f%% of that matmul rate\n",
      config.name.c_str(), describe_device(device).c_str(), precision.c_str(), (long long)threads,
      omp_wait_policy().c_str(), host_memory_policy().c_str(), format_si(double(f.parameters)).c_str(),
      format_si(f.matmul_params).c_str(), f.quantized ? "ternary" : "full precision",
      format_count(tokens_per_step).c_str(), (long long)config.train.micro_batch, (long long)config.data.seq_len,
      (long long)config.train.grad_accum, ms, (long long)options.measured_steps, (long long)options.warmup_steps,
      *std::min_element(f.step_ms.begin(), f.step_ms.end()), *std::max_element(f.step_ms.begin(), f.step_ms.end()),
      format_count(int64_t(double(tokens_per_step) / (ms / 1000.0))).c_str(), flops_per_step / 1e9, achieved / 1e9,
      dtype == torch::kBFloat16 ? "bf16" : "fp32", peak / 1e9, 100.0 * achieved / peak);
  if (device.is_cuda()) {
    std::fprintf(out, "  peak GPU memory  %.1f MiB (reserved by the caching allocator)\n",
                 double(f.peak_device_bytes) / double(1 << 20));
  }
  if (f.quantized && options.compare_full_precision) {
    // The same model and data without quantization: the cost of the quantizers as a ratio.
    RunConfig twin = config;
    twin.quant.mode = QuantMode::kNone;
    const StepFigures t = measure_steps(twin, options.warmup_steps, options.measured_steps, device);
    const double twin_ms = median(t.step_ms);
    std::fprintf(out, "  full-precision   %.1f ms median (quant.mode=none, same run): ternary step = %.2fx of it\n",
                 twin_ms, ms / twin_ms);
    if (device.is_cuda()) {
      std::fprintf(out, "  peak GPU memory  %.1f MiB with quant.mode=none\n",
                   double(t.peak_device_bytes) / double(1 << 20));
    }
  }
  const int competitors = options.competing_processes >= 0 ? options.competing_processes
                                                           : static_cast<int>(std::thread::hardware_concurrency());
  if (!device.is_cuda() && competitors > 0) {
    // The same step while other processes want the cores, as on a machine that is also building.
    double loaded_ms = 0;
    {
      CompetingLoad load(competitors);
      loaded_ms = median(measure_steps(config, options.warmup_steps, options.measured_steps, device).step_ms);
    }
    std::fprintf(out,
                 "  under load       %.1f ms median with %d competing process(es) (same run): %.2fx the idle step\n",
                 loaded_ms, competitors, loaded_ms / ms);
  }
  getrusage(RUSAGE_SELF, &usage);
  std::fprintf(out, "  peak RSS         %.1f MiB\n", double(usage.ru_maxrss) / 1024.0);
}

}  // namespace bitnet
