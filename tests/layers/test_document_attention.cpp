// Per-document attention (packed fine-tuning rows): with document ids, every document's output
// equals the plain causal path run on that document alone; with one id everywhere it equals
// the plain causal path; and a whole model's logits for a packed row equal its logits for each
// document on its own (RoPE is relative, so the document's offset in the row does not matter).
#include <gtest/gtest.h>

#include "layers/attention.h"
#include "layers/bitnet_lm.h"

namespace bitnet {
namespace {

using torch::indexing::Slice;

TEST(DocumentAttention, OneDocumentEqualsPlainCausal) {
  torch::manual_seed(1);
  torch::Tensor q = torch::randn({2, 4, 6, 8}), k = torch::randn({2, 2, 6, 8}), v = torch::randn({2, 2, 6, 8});
  torch::Tensor ids = torch::zeros({2, 6}, torch::kLong);
  EXPECT_TRUE(torch::equal(causal_attention(q, k, v, ids), causal_attention(q, k, v)));
}

TEST(DocumentAttention, EachDocumentEqualsItsOwnCausalRun) {
  torch::manual_seed(2);
  torch::Tensor q = torch::randn({2, 4, 7, 8}), k = torch::randn({2, 2, 7, 8}), v = torch::randn({2, 2, 7, 8});
  // Row 0: documents [0, 3), [3, 5), padding [5, 7) (id -1). Row 1: [0, 1), [1, 7).
  torch::Tensor ids = torch::tensor({0, 0, 0, 1, 1, -1, -1, 0, 1, 1, 1, 1, 1, 1}, torch::kLong).view({2, 7});
  torch::Tensor y = causal_attention(q, k, v, ids);
  ASSERT_FALSE(y.isnan().any().item<bool>());
  const std::vector<std::tuple<int64_t, int64_t, int64_t>> docs = {
      {0, 0, 3}, {0, 3, 5}, {0, 5, 7}, {1, 0, 1}, {1, 1, 7}};
  for (const auto& [b, s, e] : docs) {
    auto part = [&](const torch::Tensor& t) { return t.index({Slice(b, b + 1), Slice(), Slice(s, e)}); };
    torch::Tensor alone = causal_attention(part(q), part(k), part(v));
    EXPECT_TRUE(torch::allclose(part(y), alone, 1e-6, 1e-6)) << "row " << b << " [" << s << ", " << e << ")";
  }
}

TEST(DocumentAttention, PackedRowLogitsEqualSeparateDocuments) {
  BitNetOptions o;
  o.vocab_size = 32;
  o.hidden_size = 16;
  o.num_layers = 2;
  o.num_heads = 4;
  o.num_kv_heads = 2;
  o.intermediate_size = 24;
  o.quantize = false;  // the full-precision twin: no int8 rounding boundary to flip
  BitNetLM model(o);
  model->reset_parameters(7);
  torch::NoGradGuard no_grad;
  torch::Tensor a = torch::tensor({{3, 5, 7, 9}}, torch::kLong), b = torch::tensor({{11, 2, 4}}, torch::kLong);
  torch::Tensor row = torch::cat({a, b}, 1);  // (1, 7)
  torch::Tensor ids = torch::tensor({{0, 0, 0, 0, 1, 1, 1}}, torch::kLong);
  torch::Tensor packed = model(row, ids);  // (1, 7, V)
  EXPECT_TRUE(torch::allclose(packed.index({Slice(), Slice(0, 4)}), model(a), 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose(packed.index({Slice(), Slice(4, 7)}), model(b), 1e-4, 1e-4));
  // Without ids the second document sees the first: its logits differ.
  EXPECT_FALSE(torch::allclose(model(row).index({Slice(), Slice(4, 7)}), model(b), 1e-4, 1e-4));
}

}  // namespace
}  // namespace bitnet
