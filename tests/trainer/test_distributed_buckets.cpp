// Bucket planning and flattened reduction, checked against an independent per-tensor result.
#include <gtest/gtest.h>

#include "trainer/distributed.h"

namespace bitnet {
namespace {

TEST(DistributedBuckets, GroupsByDtypeInOrderUpToTheLimit) {
  const std::vector<torch::Tensor> t = {
      torch::zeros({10}),                 // 40 bytes, f32
      torch::zeros({1}, torch::kDouble),  // 8 bytes, f64
      torch::zeros({5}),                  // 20 bytes: joins the first f32 bucket (60 <= 64)
      torch::zeros({2}),                  // 8 bytes: would make 68 > 64, opens a new one
      torch::Tensor(),                    // undefined: skipped
      torch::zeros({100}),                // 400 bytes: larger than a bucket, alone
      torch::zeros({1}),                  // 4 bytes: joins nothing full, new f32 bucket
  };
  const auto b = plan_buckets(t, 64);
  const std::vector<std::vector<size_t>> expected = {{0, 2}, {1}, {3}, {5}, {6}};
  EXPECT_EQ(b, expected);
}

TEST(DistributedBuckets, FlatReductionMatchesPerTensorResult) {
  torch::manual_seed(3);
  std::vector<torch::Tensor> tensors = {torch::randn({3, 4}), torch::randn({7}), torch::tensor({2.5}, torch::kDouble),
                                        torch::randn({4, 3}).t(),  // not contiguous
                                        torch::randn({2, 2, 2})};
  std::vector<torch::Tensor> expected;
  for (const auto& t : tensors) expected.push_back(t * 3 + 1);
  std::vector<int64_t> flat_sizes;
  all_reduce_in_buckets(tensors, 48, [&](std::vector<torch::Tensor>& flat) {
    for (auto& f : flat) {
      ASSERT_EQ(f.dim(), 1);
      flat_sizes.push_back(f.numel());
      f.mul_(3).add_(1);  // stands in for "sum over ranks"
    }
  });
  for (size_t i = 0; i < tensors.size(); ++i) {
    EXPECT_TRUE(torch::equal(tensors[i], expected[i])) << "tensor " << i;
  }
  // Buckets in order of creation: f32 12 (48 bytes, full) | f32 7 | f64 1 | f32 12 (the transposed
  // one, 7 + 12 would overflow) | f32 8.
  EXPECT_EQ(flat_sizes, (std::vector<int64_t>{12, 7, 1, 12, 8}));
}

}  // namespace
}  // namespace bitnet
