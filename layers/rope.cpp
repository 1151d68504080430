// RoPE tables and rotation (see rope.h). On the CPU the rotation is one pass forward and one
// backward (FusedRope below); elsewhere, the LibTorch-op composition.
#include "layers/rope.h"

#include "layers/element_math.h"

namespace bitnet {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

// One head row of D values (D/2 pairs (i, i + half)), in the order of the op composition
// x * cos + cat(-x2, x1) * sin: each product rounded, then the sum.
// The fp32 result is rounded once to the output type O.
template <typename T, typename O>
void rotate_row(const T* __restrict x, const float* __restrict cos, const float* __restrict sin, O* __restrict out,
                int64_t half) {
  for (int64_t i = 0; i < half; ++i) {
    const float a = to_float(x[i]), b = to_float(x[i + half]);
    out[i] = from_float<O>(a * cos[i] + (-b) * sin[i]);
    out[i + half] = from_float<O>(b * cos[i + half] + a * sin[i + half]);
  }
}

// The transpose: d a = g_a cos_a + g_b sin_b, d b = g_b cos_b - g_a sin_a (a = i, b = i + half).
template <typename T>
void unrotate_row(const float* __restrict g, const float* __restrict cos, const float* __restrict sin, T* __restrict dx,
                  int64_t half) {
  for (int64_t i = 0; i < half; ++i) {
    dx[i] = from_float<T>(g[i] * cos[i] + g[i + half] * sin[i + half]);
    dx[i + half] = from_float<T>(g[i + half] * cos[i + half] - g[i] * sin[i]);
  }
}

// x (B, H, T, D) with unit stride in D (any other strides: q and k arrive as a transposed view).
template <typename E, typename O>
void rope_forward(const torch::Tensor& x, const float* cos, const float* sin, O* out) {
  const int64_t B = x.size(0), H = x.size(1), T = x.size(2), D = x.size(3);
  const E* base = x.data_ptr<E>();
  const int64_t sb = x.stride(0), sh = x.stride(1), st = x.stride(2);
  at::parallel_for(0, B * H * T, 64, [&](int64_t begin, int64_t end) {
    for_each_index(begin, end, [&](int64_t row) {
      const int64_t t = row % T, h = (row / T) % H, b = row / (T * H);
      rotate_row(base + b * sb + h * sh + t * st, cos + t * D, sin + t * D, out + row * D, D / 2);
    });
  });
}

template <typename E>
void rope_backward(const float* g, const float* cos, const float* sin, E* dx, int64_t rows, int64_t T_len, int64_t D) {
  at::parallel_for(0, rows, 64, [&](int64_t begin, int64_t end) {
    for_each_index(begin, end, [&](int64_t row) {
      const int64_t t = row % T_len;
      unrotate_row(g + row * D, cos + t * D, sin + t * D, dx + row * D, D / 2);
    });
  });
}

struct FusedRope : torch::autograd::Function<FusedRope> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& cos_in,
                               const torch::Tensor& sin_in, torch::Dtype out_dtype) {
    const torch::Tensor cos = cos_in.contiguous(), sin = sin_in.contiguous();
    torch::Tensor out = torch::empty(x.sizes(), x.options().dtype(out_dtype));
    const float *c = cos.data_ptr<float>(), *s = sin.data_ptr<float>();
    visit_float_or_bf16(x.scalar_type(), [&](auto in_tag) {
      visit_float_or_bf16(
          out_dtype, [&](auto out_tag) { rope_forward<decltype(in_tag)>(x, c, s, out.data_ptr<decltype(out_tag)>()); });
    });
    ctx->save_for_backward({cos, sin});
    ctx->saved_data["input_dtype"] = static_cast<int64_t>(x.scalar_type());
    return out;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grad_out) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &cos = saved[0], &sin = saved[1];
    const torch::Tensor g = grad_out[0].to(torch::kFloat).contiguous();
    const auto dtype = static_cast<torch::Dtype>(ctx->saved_data["input_dtype"].toInt());
    torch::Tensor dx = torch::empty(g.sizes(), g.options().dtype(dtype));
    const int64_t D = g.size(3), rows = g.numel() / D;
    visit_float_or_bf16(dtype, [&](auto tag) {
      rope_backward(g.data_ptr<float>(), cos.data_ptr<float>(), sin.data_ptr<float>(), dx.data_ptr<decltype(tag)>(),
                    rows, g.size(2), D);
    });
    return {dx, torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

bool fused_on_this_device(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                          torch::Dtype out_dtype) {
  const bool dtype_ok = is_float_or_bf16(x.scalar_type()) && is_float_or_bf16(out_dtype);
  return x.device().is_cpu() && dtype_ok && x.dim() == 4 && x.size(3) % 2 == 0 && x.stride(3) == 1 &&
         cos.scalar_type() == torch::kFloat && sin.scalar_type() == torch::kFloat && cos.device().is_cpu() &&
         sin.device().is_cpu() && cos.dim() == 2 && cos.sizes() == sin.sizes() && cos.size(0) == x.size(2) &&
         cos.size(1) == x.size(3);
}

}  // namespace

std::pair<torch::Tensor, torch::Tensor> rope_tables(int64_t seq_len, int64_t head_dim, double theta, int64_t start) {
  auto f32 = torch::TensorOptions().dtype(torch::kFloat);
  // inv_freq (D/2): theta^(-2i/D), as 1 / theta^(2i/D) in fp32 like the reference models.
  torch::Tensor exponent = torch::arange(0, head_dim, 2, f32) / static_cast<double>(head_dim);
  torch::Tensor inv_freq = torch::pow(theta, exponent).reciprocal();
  torch::Tensor positions = torch::arange(start, start + seq_len, f32);  // (T)
  torch::Tensor freqs = torch::outer(positions, inv_freq);               // (T, D/2)
  torch::Tensor angles = torch::cat({freqs, freqs}, -1);                 // (T, D)
  return {angles.cos(), angles.sin()};
}

torch::Tensor apply_rope(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                         torch::Dtype out_dtype) {
  if (fused_on_this_device(x, cos, sin, out_dtype)) return FusedRope::apply(x, cos, sin, out_dtype);
  return apply_rope_reference(x, cos, sin).to(out_dtype);
}

torch::Tensor apply_rope_reference(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin) {
  torch::Tensor xf = x.to(torch::kFloat);
  const int64_t half = xf.size(-1) / 2;
  torch::Tensor rotated = torch::cat({-xf.narrow(-1, half, half), xf.narrow(-1, 0, half)}, -1);
  return xf * cos + rotated * sin;
}

}  // namespace bitnet
