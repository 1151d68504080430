// One training step of a tiny ternary model on the GPU against the same model on the CPU (fp32):
// the loss within 1e-4 relative and every gradient within 2e-2 relative (L2). Not bit for bit:
// cuBLAS and the CPU sum in different orders, and a changed last bit can move an int8 activation
// code by one step (1/127 of a token's range), which the next layers then see.
#include "tests/cuda/gpu_test.h"

#include "trainer/train_step.h"

namespace bitnet {
namespace {

data::Batch random_batch(int64_t batch, int64_t seq, int64_t vocab) {
  auto gen = at::detail::createCPUGenerator(11);
  const torch::Tensor rows = torch::randint(vocab, {batch, seq + 1}, gen, torch::kInt);
  data::Batch b;
  b.batch_size = batch;
  b.seq_len = seq;
  for (int64_t r = 0; r < batch; ++r) {
    for (int64_t t = 0; t < seq; ++t) {
      b.inputs.push_back(rows[r][t].item<int32_t>());
      b.targets.push_back(rows[r][t + 1].item<int32_t>());
    }
  }
  b.num_targets = batch * seq;
  return b;
}

TEST(TrainStepCuda, LossAndGradientsMatchTheCpu) {
  BITNET_REQUIRE_GPU();
  BitNetOptions o;
  o.vocab_size = 97;
  o.hidden_size = 64;
  o.num_layers = 2;
  o.num_heads = 4;
  o.num_kv_heads = 2;
  o.intermediate_size = 128;
  BitNetLM cpu(o), gpu(o);
  cpu->reset_parameters(5);
  gpu->reset_parameters(5);
  gpu->to(torch::Device(torch::kCUDA, 0));
  const data::Batch batch = random_batch(3, 24, o.vocab_size);
  const double loss_cpu = accumulate_gradients(cpu, {batch}, batch.num_targets);
  const torch::Tensor loss_gpu_t = accumulate_gradients_tensor(gpu, {batch}, batch.num_targets);
  EXPECT_TRUE(loss_gpu_t.is_cuda());
  const double loss_gpu = loss_gpu_t.item<double>();
  EXPECT_NEAR(loss_gpu / loss_cpu, 1.0, 1e-4);
  auto gpu_params = gpu->named_parameters();
  for (const auto& item : cpu->named_parameters()) {
    const torch::Tensor g_cpu = item.value().grad();
    const torch::Tensor g_gpu = gpu_params[item.key()].grad().cpu();
    const double rel = (g_gpu - g_cpu).norm().item<double>() / (g_cpu.norm().item<double>() + 1e-12);
    EXPECT_LE(rel, 2e-2) << item.key();
  }
}

}  // namespace
}  // namespace bitnet
