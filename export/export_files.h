// Writing a QuantizedModel as a GGUF file (llama.cpp names, TQ2_0/TQ1_0 projections with d = 1
// and the exact fp32 scale in blk.N.<proj>.scale, F16/Q8_0 embedding, the tokenizer inside) or
// as a Hugging Face packed-BitNet directory (model.safetensors + config.json). Both atomic.
// Byte-level descriptions: docs/formats.md.
#pragma once

#include <string>

#include "export/quantized_model.h"

namespace bitnet::exporting {

enum class TernaryType { tq2_0, tq1_0 };
enum class EmbdType { f32, f16, q8_0 };
TernaryType parse_ternary_type(const std::string& name);  // "tq2_0" | "tq1_0", else ExportError
EmbdType parse_embd_type(const std::string& name);        // "f32" | "f16" | "q8_0"

struct ExportSummary {
  std::string path;
  std::string architecture;  // GGUF: "bitnet" | "bitnet-b1.58"; safetensors: "BitNetForCausalLM"
  int64_t tensors = 0;
  int64_t ternary_weights = 0;  // weights in projections
  uint64_t ternary_bytes = 0;   // their packed bytes
  int64_t parameters = 0;       // every stored weight (tied head counted once)
  uint64_t file_bytes = 0;      // all files written
  uint64_t bf16_bytes = 0;      // the same parameters stored as bf16
  double ternary_bits_per_weight() const {
    return ternary_weights ? 8.0 * double(ternary_bytes) / double(ternary_weights) : 0.0;
  }
};

// GGUF architecture for a model: "bitnet" for SiLU + tied head, "bitnet-b1.58" for ReLU²;
// throws ExportError for a SiLU model with an untied head (llama.cpp's bitnet graph ties it, and
// no other BitNet architecture computes SiLU).
std::string gguf_architecture(const BitNetOptions& options);

ExportSummary write_gguf(const QuantizedModel& model, const std::string& path, TernaryType type, EmbdType embd);

// `dir` is created if needed; holds model.safetensors and config.json.
ExportSummary write_hf_packed(const QuantizedModel& model, const std::string& dir);

}  // namespace bitnet::exporting
