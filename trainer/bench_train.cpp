// Training benchmark (see bench_train.h). FLOPs counted per step: 6 · (projection + LM-head
// parameters) · tokens for the matmuls of forward and backward, plus 12 · layers · T · C · tokens
// for attention scores and values (the usual transformer estimate); the elementwise work of
// quantization and norms is not counted, which is why it shows up as lost utilisation.
#include "trainer/bench_train.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "optim/adamw.h"
#include "optim/grad_clip.h"
#include "trainer/competing_load.h"
#include "trainer/console.h"
#include "checkpoint/model_options.h"
#include "trainer/device.h"
#include "trainer/model_setup.h"
#include "trainer/run_data.h"
#include "trainer/train_step.h"

namespace bitnet {
namespace {

using Clock = std::chrono::steady_clock;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

// Best sustained matmul FLOP/s over the model's (tokens × in) · (in × out) shapes on `device`.
double matmul_flops_per_second(const std::vector<std::pair<int64_t, int64_t>>& shapes, int64_t tokens,
                               torch::Dtype dtype, const torch::Device& device) {
  torch::NoGradGuard no_grad;
  double best = 0;
  for (const auto& [in, out] : shapes) {
    torch::Tensor a = torch::randn({tokens, in}).to(device, dtype), b = torch::randn({in, out}).to(device, dtype);
    torch::matmul(a, b);  // warm-up
    synchronize(device);
    const int reps = device.is_cuda() ? 50 : 5;
    const auto t0 = Clock::now();
    for (int i = 0; i < reps; ++i) torch::matmul(a, b);
    synchronize(device);
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    best = std::max(best, 2.0 * double(tokens) * double(in) * double(out) * reps / secs);
  }
  return best;
}

struct StepFigures {
  std::vector<double> step_ms;   // measured steps
  int64_t parameters = 0;
  double matmul_params = 0;      // projections + LM head
  std::vector<std::pair<int64_t, int64_t>> shapes;  // distinct (in, out) of the projections
  int64_t peak_device_bytes = 0;
  bool quantized = false;
};

// Runs warm-up + measured optimizer steps of `config` on `device` (time includes waiting for the
// device, so a GPU step is measured to its end).
StepFigures measure_steps(const RunConfig& config, const BenchTrainOptions& options, const torch::Device& device) {
  torch::manual_seed(static_cast<uint64_t>(config.train.seed));
  RunData data = prepare_run_data(config, 0, 1);
  const int64_t vocab = config.model.vocab_size > 0 ? config.model.vocab_size : data.tokenizer->vocab_size();
  BitNetLM model(model_options(config, vocab, compute_dtype_for(config.train.precision, device)));
  model->reset_parameters(static_cast<uint64_t>(config.train.seed));
  model->to(device);
  std::vector<std::pair<std::string, torch::Tensor>> named;
  for (const auto& item : model->named_parameters()) named.emplace_back(item.key(), item.value());
  AdamW optimizer(named, AdamWOptions{.beta1 = config.optim.betas[0], .beta2 = config.optim.betas[1], .eps = config.optim.eps});
  const std::vector<torch::Tensor> params = model->parameters();

  StepFigures f;
  reset_peak_device_memory(device);
  for (int64_t s = 0; s < options.warmup_steps + options.measured_steps; ++s) {
    std::vector<data::Batch> batches;
    for (int64_t i = 0; i < config.train.grad_accum; ++i) batches.push_back(data.train->next(config.train.micro_batch));
    int64_t targets = 0;
    for (const auto& b : batches) targets += b.num_targets;
    synchronize(device);
    const auto t0 = Clock::now();
    accumulate_gradients_tensor(model, batches, targets);
    clip_grad_norm_tensor(params, config.optim.grad_clip);
    optimizer.step(config.optim.lr, config.optim.weight_decay);
    optimizer.zero_grad();
    synchronize(device);
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (s >= options.warmup_steps) f.step_ms.push_back(ms);
  }
  f.peak_device_bytes = peak_device_memory(device);
  f.parameters = model->num_parameters();
  f.quantized = model->options().quantize;
  f.matmul_params = double(vocab) * double(config.model.hidden_size);
  for (auto& [name, linear] : model->bit_linears()) {
    const auto& o = linear->options();
    f.matmul_params += double(o.in_features) * double(o.out_features);
    if (std::find(f.shapes.begin(), f.shapes.end(), std::make_pair(o.in_features, o.out_features)) == f.shapes.end())
      f.shapes.emplace_back(o.in_features, o.out_features);
  }
  return f;
}

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

  const StepFigures f = measure_steps(config, options, device);
  const double ms = median(f.step_ms);
  const int64_t tokens_per_step = config.train.micro_batch * config.data.seq_len * config.train.grad_accum;
  const double attention = 12.0 * double(config.model.num_layers) * double(config.data.seq_len) *
                           double(config.model.hidden_size);
  const double flops_per_step = (6.0 * f.matmul_params + attention) * double(tokens_per_step);
  const torch::Dtype dtype = compute_dtype_for(config.train.precision, device);
  const std::string precision = describe_precision(config.train.precision, device);
  const double peak = matmul_flops_per_second(f.shapes, config.train.micro_batch * config.data.seq_len, dtype, device);
  const double achieved = flops_per_step / (ms / 1000.0);

  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::fprintf(out,
               "bench train %s: %s, %s, %lld thread(s), OpenMP waiting %s\n"
               "  model            %s parameters (%s in matmuls), %s\n"
               "  step             %s tokens (micro-batch %lld x seq %lld x accum %lld)\n"
               "  step time        %.1f ms median of %lld steps after %lld warm-up (min %.1f, max %.1f)\n"
               "  throughput       %s tokens/s\n"
               "  model FLOPs      %.2f GFLOP/step, %.1f GFLOP/s achieved\n"
               "  %s matmul       %.1f GFLOP/s (best of the model's projection shapes, same run)\n"
               "  MFU              %.1f%% of that matmul rate\n",
               config.name.c_str(), describe_device(device).c_str(), precision.c_str(), (long long)threads,
               omp_wait_policy().c_str(),
               format_si(double(f.parameters)).c_str(), format_si(f.matmul_params).c_str(),
               f.quantized ? "ternary" : "full precision", format_count(tokens_per_step).c_str(),
               (long long)config.train.micro_batch, (long long)config.data.seq_len, (long long)config.train.grad_accum,
               ms, (long long)options.measured_steps, (long long)options.warmup_steps,
               *std::min_element(f.step_ms.begin(), f.step_ms.end()), *std::max_element(f.step_ms.begin(), f.step_ms.end()),
               format_count(int64_t(double(tokens_per_step) / (ms / 1000.0))).c_str(), flops_per_step / 1e9,
               achieved / 1e9, dtype == torch::kBFloat16 ? "bf16" : "fp32", peak / 1e9, 100.0 * achieved / peak);
  if (device.is_cuda()) {
    std::fprintf(out, "  peak GPU memory  %.1f MiB (reserved by the caching allocator)\n",
                 double(f.peak_device_bytes) / double(1 << 20));
  }
  if (f.quantized && options.compare_full_precision) {
    // The same model and data without quantization: the cost of the quantizers as a ratio.
    RunConfig twin = config;
    twin.quant.mode = "none";
    const StepFigures t = measure_steps(twin, options, device);
    const double twin_ms = median(t.step_ms);
    std::fprintf(out, "  full-precision   %.1f ms median (quant.mode=none, same run): ternary step = %.2fx of it\n",
                 twin_ms, ms / twin_ms);
    if (device.is_cuda()) {
      std::fprintf(out, "  peak GPU memory  %.1f MiB with quant.mode=none\n", double(t.peak_device_bytes) / double(1 << 20));
    }
  }
  const int competitors = options.competing_processes >= 0 ? options.competing_processes
                                                           : static_cast<int>(std::thread::hardware_concurrency());
  if (!device.is_cuda() && competitors > 0) {
    // The same step while other processes want the cores, as on a machine that is also building.
    double loaded_ms = 0;
    {
      CompetingLoad load(competitors);
      loaded_ms = median(measure_steps(config, options, device).step_ms);
    }
    std::fprintf(out, "  under load       %.1f ms median with %d competing process(es) (same run): %.2fx the idle step\n",
                 loaded_ms, competitors, loaded_ms / ms);
  }
  getrusage(RUSAGE_SELF, &usage);
  std::fprintf(out, "  peak RSS         %.1f MiB\n", double(usage.ru_maxrss) / 1024.0);
}

}  // namespace bitnet
