// Sample text from the LibTorch model during training (full recompute each token: the model is
// small and samples are short; the deployable runtime in kernels/ has the KV cache).
#pragma once

#include <string>

#include "data/tokenizer.h"
#include "layers/bitnet_lm.h"

namespace bitnet {

struct SampleOptions {
  int64_t max_new_tokens = 64;
  double temperature = 0.8;  // 0 = greedy
  int64_t top_k = 40;        // 0 = whole vocabulary
  uint64_t seed = 0;
};

// Generates a continuation of `prompt` (encoded after an EOS, which is how every document after
// the first starts in packed training data). Stops at EOS. Returns the continuation's text.
std::string sample_text(BitNetLM& model, const data::Tokenizer& tokenizer, const std::string& prompt,
                        const SampleOptions& options);

}  // namespace bitnet
