// Flattened, bucketed all-reduce (see distributed.h): one collective per bucket instead of one
// per parameter, so a step costs a few large messages rather than hundreds of small ones.
#include "trainer/distributed.h"

namespace bitnet {

std::vector<std::vector<size_t>> plan_buckets(const std::vector<torch::Tensor>& tensors, int64_t bucket_bytes) {
  std::vector<std::vector<size_t>> buckets;
  std::vector<int64_t> bucket_size;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const torch::Tensor& t = tensors[i];
    if (!t.defined()) continue;
    const int64_t bytes = t.numel() * static_cast<int64_t>(t.element_size());
    // The open bucket for this dtype/device is the last one holding that kind.
    std::optional<size_t> open;
    for (size_t b = buckets.size(); b-- > 0;) {
      const torch::Tensor& first = tensors[buckets[b].front()];
      if (first.scalar_type() == t.scalar_type() && first.device() == t.device()) {
        open = b;
        break;
      }
    }
    if (open && bucket_size[*open] + bytes <= bucket_bytes) {
      buckets[*open].push_back(i);
      bucket_size[*open] += bytes;
    } else {
      buckets.push_back({i});
      bucket_size.push_back(bytes);
    }
  }
  return buckets;
}

void all_reduce_in_buckets(std::vector<torch::Tensor>& tensors, int64_t bucket_bytes,
                           const std::function<void(std::vector<torch::Tensor>& flat)>& reduce_flat) {
  const std::vector<std::vector<size_t>> buckets = plan_buckets(tensors, bucket_bytes);
  std::vector<torch::Tensor> flat;
  flat.reserve(buckets.size());
  for (const auto& bucket : buckets) {
    const torch::Tensor& first = tensors[bucket.front()];
    if (bucket.size() == 1 && first.is_contiguous()) {
      flat.push_back(first.view({-1}));  // reduced in place, no copy back needed
      continue;
    }
    std::vector<torch::Tensor> parts;
    parts.reserve(bucket.size());
    for (size_t i : bucket) parts.push_back(tensors[i].reshape({-1}));
    flat.push_back(torch::cat(parts));
  }
  reduce_flat(flat);
  for (size_t b = 0; b < buckets.size(); ++b) {
    const auto& bucket = buckets[b];
    if (bucket.size() == 1 && tensors[bucket.front()].is_contiguous()) continue;
    int64_t offset = 0;
    for (size_t i : bucket) {
      torch::Tensor& t = tensors[i];
      const int64_t n = t.numel();
      t.copy_(flat[b].narrow(0, offset, n).view(t.sizes()));
      offset += n;
    }
  }
}

}  // namespace bitnet
