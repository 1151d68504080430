// Tensor-level wrappers of the fused CUDA quantizers (see quantize_cuda.h).
#include "cuda/quantize_cuda.h"

#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "cuda/quantize_kernels.h"

namespace bitnet::cuda {
namespace {

ElementType element_type(torch::Dtype dtype, const char* what) {
  if (dtype == torch::kFloat) return ElementType::kFloat32;
  if (dtype == torch::kBFloat16) return ElementType::kBFloat16;
  TORCH_CHECK(false, what, ": the CUDA quantizers take float32 or bfloat16, got ", c10::toString(dtype));
}

// Runs the two reduction passes; returns the (1,) fp64 sum of |w| on w's device.
torch::Tensor abs_sum(const torch::Tensor& w, ElementType type) {
  torch::Tensor partials = torch::empty({ternary_partial_count(w.numel())}, w.options().dtype(torch::kDouble));
  torch::Tensor sum = torch::empty({1}, w.options().dtype(torch::kDouble));
  launch_abs_sum(w.data_ptr(), type, w.numel(), partials.data_ptr<double>(), sum.data_ptr<double>(),
                 c10::cuda::getCurrentCUDAStream(w.get_device()).stream());
  return sum;
}

// Quantizes w into `out` (may be undefined: only the scale is wanted); returns the fp32 scale.
torch::Tensor ternary(const torch::Tensor& weight, torch::Dtype out_dtype, bool want_values, torch::Tensor* out) {
  TORCH_CHECK(weight.is_cuda(), "ternary_weight_fake_quant (CUDA): the weight is not on a CUDA device");
  const c10::cuda::CUDAGuard guard(weight.device());
  const torch::Tensor w = weight.contiguous();
  const ElementType in_type = element_type(w.scalar_type(), "ternary_weight_fake_quant");
  const ElementType out_type = element_type(out_dtype, "ternary_weight_fake_quant");
  const torch::Tensor sum = abs_sum(w, in_type);
  torch::Tensor scale = torch::empty({}, w.options().dtype(torch::kFloat));
  if (want_values) *out = torch::empty(w.sizes(), w.options().dtype(out_dtype));
  launch_ternary_fake_quant(w.data_ptr(), in_type, w.numel(), sum.data_ptr<double>(),
                            want_values ? out->data_ptr() : nullptr, out_type, scale.data_ptr<float>(),
                            c10::cuda::getCurrentCUDAStream(w.get_device()).stream());
  return scale;
}

}  // namespace

torch::Tensor int8_activation_fake_quant(const torch::Tensor& x, torch::Dtype out_dtype) {
  TORCH_CHECK(x.is_cuda(), "int8_activation_fake_quant (CUDA): the input is not on a CUDA device");
  const c10::cuda::CUDAGuard guard(x.device());
  const torch::Tensor in = x.contiguous();
  const ElementType in_type = element_type(in.scalar_type(), "int8_activation_fake_quant");
  const ElementType out_type = element_type(out_dtype, "int8_activation_fake_quant");
  torch::Tensor out = torch::empty(in.sizes(), in.options().dtype(out_dtype));
  const int64_t n = in.dim() == 0 ? 1 : in.size(-1);
  const int64_t rows = n > 0 ? in.numel() / n : 0;
  launch_int8_activation_fake_quant(in.data_ptr(), in_type, out.data_ptr(), out_type, rows, n,
                                    c10::cuda::getCurrentCUDAStream(in.get_device()).stream());
  return out;
}

torch::Tensor ternary_weight_fake_quant(const torch::Tensor& weight, torch::Dtype out_dtype) {
  torch::Tensor out;
  ternary(weight, out_dtype, /*want_values=*/true, &out);
  return out;
}

torch::Tensor ternary_weight_scale(const torch::Tensor& weight) {
  return ternary(weight, torch::kFloat, /*want_values=*/false, nullptr);
}

}  // namespace bitnet::cuda
