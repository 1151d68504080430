// Gradient accumulation equals the big batch: micro-batch 4 × accum 1 vs 1 × 4 give the same
// gradients (fp32, within 1e-6 relative), and masked targets carry no loss.
#include <gtest/gtest.h>

#include "trainer/train_step.h"

namespace bitnet {
namespace {

BitNetOptions tiny() {
  BitNetOptions o;
  o.vocab_size = 17;
  o.hidden_size = 16;
  o.num_layers = 2;
  o.num_heads = 2;
  o.num_kv_heads = 1;
  o.intermediate_size = 24;
  o.init_std = 0.2;
  return o;
}

// Rows of seq_len + 1 tokens; `masked` lists flat target positions that carry no loss.
data::Batch make_batch(const std::vector<std::vector<int32_t>>& rows, const std::vector<size_t>& masked = {}) {
  data::Batch b;
  b.batch_size = int64_t(rows.size());
  b.seq_len = int64_t(rows[0].size()) - 1;
  for (const auto& r : rows) {
    b.inputs.insert(b.inputs.end(), r.begin(), r.end() - 1);
    b.targets.insert(b.targets.end(), r.begin() + 1, r.end());
  }
  for (size_t m : masked) b.targets[m] = data::kIgnoreIndex;
  for (int32_t t : b.targets) b.num_targets += t != data::kIgnoreIndex;
  return b;
}

std::map<std::string, torch::Tensor> gradients(BitNetLM& model) {
  std::map<std::string, torch::Tensor> g;
  for (const auto& item : model->named_parameters()) g[item.key()] = item.value().grad().clone();
  return g;
}

TEST(GradientAccumulation, FourMicroBatchesEqualOneBigBatch) {
  torch::manual_seed(3);
  std::vector<std::vector<int32_t>> rows;
  for (int r = 0; r < 4; ++r) {
    torch::Tensor t = torch::randint(0, 17, {9}, torch::kInt);
    rows.emplace_back(t.data_ptr<int32_t>(), t.data_ptr<int32_t>() + 9);
  }
  BitNetLM model(tiny());
  model->reset_parameters(11);

  // One masked target in row 2: token counts are what normalise, not rows.
  const data::Batch big = make_batch(rows, {2 * 8 + 4});
  accumulate_gradients(model, {big}, big.num_targets);
  auto one_big = gradients(model);
  model->zero_grad();

  std::vector<data::Batch> micro;
  for (size_t r = 0; r < rows.size(); ++r)
    micro.push_back(make_batch({rows[r]}, r == 2 ? std::vector<size_t>{4} : std::vector<size_t>{}));
  accumulate_gradients(model, micro, big.num_targets);
  auto accumulated = gradients(model);

  for (const auto& [name, g] : one_big) {
    const double scale = g.abs().max().item<double>();
    const double diff = (g - accumulated.at(name)).abs().max().item<double>();
    EXPECT_LE(diff, 1e-6 * scale + 1e-12) << name;
  }
}

TEST(GradientAccumulation, LossIsSummedCrossEntropyOverTargets) {
  BitNetOptions o = tiny();
  o.quantize = false;
  BitNetLM model(o);
  model->reset_parameters(5);
  const data::Batch batch = make_batch({{1, 2, 3, 4}, {5, 6, 8, 7}}, {4});
  // Independent: log-softmax of the logits, picked at the targets.
  torch::Tensor logits = model(batch_inputs(batch));
  torch::Tensor logp = torch::log_softmax(logits, -1);
  double expected = 0;
  for (int64_t i = 0; i < 6; ++i) {
    const int32_t t = batch.targets[size_t(i)];
    if (t != data::kIgnoreIndex) expected -= logp[i / 3][i % 3][t].item<double>();
  }
  EXPECT_EQ(batch.num_targets, 5);
  EXPECT_NEAR(summed_cross_entropy(model, batch).item<double>(), expected, 1e-4);
  EvalResult r = evaluate(model, {batch});
  EXPECT_EQ(r.targets, 5);
  EXPECT_NEAR(r.loss, expected / 5, 1e-5);
}

}  // namespace
}  // namespace bitnet
