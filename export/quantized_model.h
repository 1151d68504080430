// A checkpoint quantized with the training quantizer (layers/quantize.h), ready to be packed:
// per projection the ternary codes clamp(round(W * s_w), -1, 1) and the weight scale 1 / s_w
// (fp32, so codes * scale is bit for bit the training model's dequantized weight), plus the fp32
// norms and embedding, the resolved run config and its tokenizer.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "data/tokenizer.h"
#include "layers/bitnet_lm.h"
#include "trainer/config.h"

namespace bitnet::exporting {

struct QuantizedProjection {
  int64_t layer = 0;
  std::string gguf_stem;       // "attn_q"
  std::string hf_name;         // "model.layers.0.self_attn.q_proj.weight"
  int64_t rows = 0, cols = 0;  // [out, in]
  std::vector<int8_t> codes;   // row-major [rows, cols], in {-1, 0, 1}
  float scale = 0.0f;          // 1 / s_w: dequantized weight = code * scale
};

struct QuantizedModel {
  std::string checkpoint_dir;
  RunConfig config;
  BitNetOptions options;  // compute dtype forced to fp32
  std::shared_ptr<data::Tokenizer> tokenizer;
  std::map<std::string, torch::Tensor> latent;   // fp32 latent weights by HF name
  std::vector<QuantizedProjection> projections;  // layer-major, projection_names() order
};

// Loads and verifies the checkpoint, rebuilds its config and tokenizer, quantizes every
// projection. Throws ExportError (quantization off, a missing tensor, a width that TQ blocks
// cannot hold, ...) with a message that says what to change.
QuantizedModel quantize_checkpoint(const std::string& checkpoint_dir);

// The LibTorch model of the checkpoint (fp32 compute), with its latent weights loaded.
BitNetLM build_torch_model(const QuantizedModel& model);

}  // namespace bitnet::exporting
