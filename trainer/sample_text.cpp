// Sampling (see sample_text.h).
#include "trainer/sample_text.h"

#include "trainer/train_step.h"

namespace bitnet {

std::string sample_text(BitNetLM& model, const data::Tokenizer& tokenizer, const std::string& prompt,
                        const SampleOptions& options) {
  torch::NoGradGuard no_grad;
  std::vector<int32_t> tokens = {tokenizer.eos_id()};
  for (int32_t id : tokenizer.encode(prompt)) tokens.push_back(id);
  const size_t prompt_len = tokens.size();
  auto generator = at::detail::createCPUGenerator(options.seed);
  const int64_t context = model->options().max_seq_len;
  for (int64_t i = 0; i < options.max_new_tokens; ++i) {
    const int64_t start = std::max<int64_t>(0, int64_t(tokens.size()) - context);
    torch::Tensor input = torch::tensor(std::vector<int32_t>(tokens.begin() + start, tokens.end()), torch::kInt)
                              .to(torch::kLong)
                              .view({1, -1});
    torch::Tensor logits = model(input.to(model_device(model)))[0][-1].to(torch::kCPU);  // (V)
    int64_t next = 0;
    if (options.temperature <= 0) {
      next = logits.argmax().item<int64_t>();
    } else {
      logits = logits / options.temperature;
      if (options.top_k > 0 && options.top_k < logits.size(0)) {
        const double kth = std::get<0>(logits.topk(options.top_k))[-1].item<double>();
        logits = logits.masked_fill(logits < kth, -std::numeric_limits<float>::infinity());
      }
      next = torch::multinomial(torch::softmax(logits, -1), 1, false, generator).item<int64_t>();
    }
    if (next == tokenizer.eos_id()) break;
    tokens.push_back(static_cast<int32_t>(next));
  }
  return tokenizer.decode(std::vector<int32_t>(tokens.begin() + prompt_len, tokens.end()));
}

}  // namespace bitnet
