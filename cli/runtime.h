// The torch-free runtime commands shared by `bitnet generate` and `bitnet-run`: load a GGUF
// export with its tokenizer, stream a generation, or dump teacher-forced next-token log
// probabilities as JSON (what the llama.cpp comparison test reads).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "data/tokenizer.h"
#include "kernels/gguf_model.h"

namespace bitnet::cli {

// The tokenizer a GGUF vocabulary describes. Supported: the byte vocabulary our exporter writes
// (model "gpt2", no merges, token b < 256 = byte b in the GPT-2 byte-level alphabet, then
// BOS/EOS/PAD), and a gpt2 BPE vocabulary with merges and pre "llama-bpe" or "gpt-2" (what we
// export for a tokenizer.json), rebuilt as a BpeTokenizer; anything else throws
// std::runtime_error saying so.
std::unique_ptr<data::Tokenizer> tokenizer_from_gguf(const kernels::GgufVocab& vocab, const std::string& path);

struct RunOptions {
  std::string model;
  std::string prompt;
  int64_t max_new_tokens = 64;
  float temperature = 0.8f;
  int64_t top_k = 40;
  float top_p = 0.95f;
  uint64_t seed = 0;
  int threads = 0;            // 0 = all cores
  std::string logprobs_json;  // set: teacher-forced dump of the prompt instead of generating
};

// Adds the options above to `cmd` (positional MODEL, --prompt, -n, --temp, ...).
void add_run_options(CLI::App* cmd, RunOptions* options);

// Generation: prompt encoding is EOS then the tokenizer's encoding of the text (documents start
// after an EOS in training); streams each new token's text to stdout as it is produced; stops at
// EOS, after max_new_tokens, or at the context length. Prints tokens/s to stderr. Returns 0.
int run_generate(const RunOptions& options);

// Writes {"tokens": [...], "logprobs": [[vocab floats] per position]} for the EOS + prompt tokens:
// row t is log softmax of the logits after tokens[0..t]. Returns 0.
int run_dump_logprobs(const RunOptions& options);

int resolve_threads(int threads);

}  // namespace bitnet::cli
