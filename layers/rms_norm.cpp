// RMSNorm in fp32 (see rms_norm.h).
#include "layers/rms_norm.h"

namespace bitnet {

RMSNormImpl::RMSNormImpl(int64_t dim, double eps) : eps_(eps) {
  weight = register_parameter("weight", torch::ones({dim}));
}

torch::Tensor RMSNormImpl::forward(const torch::Tensor& x) {
  torch::Tensor xf = x.to(torch::kFloat);
  torch::Tensor inv_rms = torch::rsqrt(xf.pow(2).mean(-1, /*keepdim=*/true) + eps_);
  return (xf * inv_rms * weight).to(x.scalar_type());
}

}  // namespace bitnet
