// A random ternary model of any shape (benchmarks: a 2B4T-shaped file without training one).
// Codes are i.i.d. (-1 with probability 1/2, 0 and +1 with 1/4), scales 1/sqrt(2 in / 3), norms 1, the
// embedding N(0, 1) — numerically a plausible network, semantically noise. Byte tokenizer, the
// vocabulary padded with unused tokens up to options.vocab_size.
#pragma once

#include "export/quantized_model.h"

namespace bitnet::exporting {

// The BitNet b1.58 2B4T shape: hidden 2560, 30 layers, 20 heads, 5 KV heads, FFN 6912, vocab
// 128256, context 4096, SiLU (so stock llama.cpp runs it), tied head.
BitNetOptions shape_2b4t();

QuantizedModel random_model(const BitNetOptions& options, uint64_t seed);

}  // namespace bitnet::exporting
