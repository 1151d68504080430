// RMSNorm in fp32 (see rms_norm.h). On the CPU the forward and backward are each one pass over
// the rows (FusedRmsNorm below); elsewhere, the LibTorch-op composition.
#include "layers/rms_norm.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "layers/element_math.h"

namespace bitnet {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

// The composition of LibTorch ops (to fp32, pow, mean, add, rsqrt, two multiplies, cast back)
// reads and writes the whole activation a dozen times forward and backward, and was 16% of a
// tiny-fortunes step. One row (a token's hidden vector, a few KiB) stays in L1 between the passes
// of the fused loops below.

// sum of a * b over a row in 16 independent fp32 lanes (vectorizable), reduced in a fixed tree.
template <typename A, typename B>
float row_dot(const A* a, const B* b, int64_t n) {
  float lane[16] = {};
  int64_t j = 0;
  for (; j + 16 <= n; j += 16)
    for (int k = 0; k < 16; ++k) lane[k] += to_float(a[j + k]) * to_float(b[j + k]);
  for (int width = 8; width >= 1; width /= 2)
    for (int k = 0; k < width; ++k) lane[k] += lane[k + width];
  float sum = lane[0];
  for (; j < n; ++j) sum += to_float(a[j]) * to_float(b[j]);
  return sum;
}

// y = (x * r) * w with r = 1 / sqrt(mean(x²) + eps) per row; r is kept for the backward pass.
template <typename T>
void forward_rows(const T* x, const float* w, T* y, float* inv_rms, int64_t rows, int64_t n, float eps) {
  at::parallel_for(0, rows, 16, [&](int64_t begin, int64_t end) {
    for_each_index(begin, end, [&](int64_t row) {
      const T* xr = x + row * n;
      T* yr = y + row * n;
      const float r = 1.0f / std::sqrt(row_dot(xr, xr, n) / static_cast<float>(n) + eps);
      inv_rms[row] = r;
      for (int64_t j = 0; j < n; ++j) yr[j] = from_float<T>((to_float(xr[j]) * r) * w[j]);
    });
  });
}

// Weight-gradient partial sums are kept per block of rows, not per thread, and the blocks are
// added in order: the result does not depend on the thread count.
constexpr int64_t kRowsPerBlock = 64;

// With h = g * w and s = sum_j h_j x_j over a row:
//   dx_j = r h_j - x_j r³ s / n,   dw_j = sum over rows of g_j x_j r.
template <typename T>
void backward_rows(const T* g, const T* x, const float* w, const float* inv_rms, T* dx, float* dw, int64_t rows,
                   int64_t n) {
  const int64_t blocks = (rows + kRowsPerBlock - 1) / kRowsPerBlock;
  std::vector<float> partial(static_cast<size_t>(blocks * n), 0.0f);
  at::parallel_for(0, blocks, 1, [&](int64_t b0, int64_t b1) {
    std::vector<float> h(static_cast<size_t>(n));
    for (int64_t b = b0; b < b1; ++b) {
      float* pw = partial.data() + b * n;
      float* hr = h.data();
      for_each_index(b * kRowsPerBlock, std::min(rows, (b + 1) * kRowsPerBlock), [&](int64_t row) {
        const T* gr = g + row * n;
        const T* xr = x + row * n;
        T* dxr = dx + row * n;
        const float r = inv_rms[row];
        for (int64_t j = 0; j < n; ++j) hr[j] = to_float(gr[j]) * w[j];
        const float c = r * r * r * row_dot(hr, xr, n) / static_cast<float>(n);
        for (int64_t j = 0; j < n; ++j) {
          const float xj = to_float(xr[j]);
          dxr[j] = from_float<T>(r * hr[j] - xj * c);
          pw[j] += to_float(gr[j]) * xj * r;
        }
      });
    }
  });
  at::parallel_for(0, n, 64, [&](int64_t j0, int64_t j1) {
    for (int64_t j = j0; j < j1; ++j) {
      float sum = 0.0f;
      for (int64_t b = 0; b < blocks; ++b) sum += partial[static_cast<size_t>(b * n + j)];
      dw[j] = sum;
    }
  });
}

struct FusedRmsNorm : torch::autograd::Function<FusedRmsNorm> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& weight, double eps) {
    const torch::Tensor in = x.contiguous();
    const int64_t n = in.size(-1), rows = n > 0 ? in.numel() / n : 0;
    torch::Tensor y = torch::empty_like(in);
    torch::Tensor inv_rms = torch::empty({rows}, in.options().dtype(torch::kFloat));
    const torch::Tensor w = weight.contiguous();
    visit_float_or_bf16(in.scalar_type(), [&](auto tag) {
      using T = decltype(tag);
      forward_rows(in.data_ptr<T>(), w.data_ptr<float>(), y.data_ptr<T>(), inv_rms.data_ptr<float>(), rows, n,
                   static_cast<float>(eps));
    });
    ctx->save_for_backward({in, w, inv_rms});
    return y;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grad_out) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &x = saved[0], &w = saved[1], &inv_rms = saved[2];
    const torch::Tensor g = grad_out[0].to(x.scalar_type()).contiguous();
    const int64_t n = x.size(-1), rows = n > 0 ? x.numel() / n : 0;
    torch::Tensor dx = torch::empty_like(x);
    torch::Tensor dw = torch::empty_like(w);
    visit_float_or_bf16(x.scalar_type(), [&](auto tag) {
      using T = decltype(tag);
      backward_rows(g.data_ptr<T>(), x.data_ptr<T>(), w.data_ptr<float>(), inv_rms.data_ptr<float>(), dx.data_ptr<T>(),
                    dw.data_ptr<float>(), rows, n);
    });
    return {dx, dw, torch::Tensor()};
  }
};

bool fused_on_this_device(const torch::Tensor& x, const torch::Tensor& weight) {
  return x.device().is_cpu() && weight.device().is_cpu() && is_float_or_bf16(x.scalar_type()) &&
         weight.scalar_type() == torch::kFloat && x.dim() >= 1 && x.size(-1) == weight.numel();
}

}  // namespace

RMSNormImpl::RMSNormImpl(int64_t dim, double eps) : eps_(eps) {
  weight = register_parameter("weight", torch::ones({dim}));
}

torch::Tensor RMSNormImpl::forward(const torch::Tensor& x) {
  if (fused_on_this_device(x, weight)) return FusedRmsNorm::apply(x, weight, eps_);
  return rms_norm_reference(x, weight, eps_);
}

torch::Tensor rms_norm_reference(const torch::Tensor& x, const torch::Tensor& weight, double eps) {
  torch::Tensor xf = x.to(torch::kFloat);
  torch::Tensor inv_rms = torch::rsqrt(xf.pow(2).mean(-1, /*keepdim=*/true) + eps);
  return (xf * inv_rms * weight).to(x.scalar_type());
}

}  // namespace bitnet
