// Loading a BitNet GGUF export into the CPU runtime, and the GGUF naming contract shared with the
// exporter (export/) so the two cannot drift apart. docs/formats.md describes the file.
//
// Architectures: "bitnet" = SiLU-gated FFN with a tied head (llama.cpp runs it); "bitnet-b1.58" =
// ReLU² (bitnet.cpp's name; stock llama.cpp refuses it). Tensors (ne in GGUF order):
//   token_embd.weight {hidden, vocab} F32|F16|Q8_0     output.weight (untied, bitnet-b1.58 only)
//   output_norm.weight {hidden} F32
//   blk.N.{attn_norm,attn_sub_norm,ffn_norm}.weight {hidden} F32, blk.N.ffn_sub_norm.weight {ffn} F32
//   blk.N.{attn_q,attn_k,attn_v,attn_output,ffn_gate,ffn_up,ffn_down}.weight TQ2_0|TQ1_0
//   blk.N.<proj>.scale {1} F32: the weight scale, multiplied after the projection
// Every block scale d of a projection must be equal (our exports write d = 1): the runtime keeps
// one per-tensor scale, w_scale = d * scale.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "formats/gguf.h"
#include "kernels/cpu_features.h"
#include "kernels/model.h"

namespace bitnet::kernels {

// The tokenizer stored in the file (llama.cpp's tokenizer.ggml.* keys).
struct GgufVocab {
  std::string model;  // tokenizer.ggml.model, e.g. "gpt2"
  std::string pre;    // tokenizer.ggml.pre ("" when absent)
  std::vector<std::string> tokens;
  std::vector<int32_t> token_types;  // empty when absent
  std::vector<std::string> merges;   // tokenizer.ggml.merges, "left right" in rank order
  int32_t bos = -1, eos = -1, pad = -1;
};

struct LoadedModel {
  ModelWeights weights;
  GgufVocab vocab;
  std::string architecture;
  formats::GgmlType weight_type = formats::GgmlType::TQ2_0;  // of the projections
  formats::GgmlType embd_type = formats::GgmlType::F32;
  uint64_t file_bytes = 0;
};

// Validates everything (architecture vs activation, hyper-parameters, every tensor's presence,
// type and shape, unknown tensors, block scales, codes, vocabulary) and throws KernelError naming
// the file and the problem. Projections are repacked for `path`.
LoadedModel load_gguf_model(const std::string& file, KernelPath path);
LoadedModel load_gguf_model(const formats::GgufReader& reader, KernelPath path);

}  // namespace bitnet::kernels
