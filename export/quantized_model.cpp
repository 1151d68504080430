// Checkpoint -> QuantizedModel (see quantized_model.h).
#include "export/quantized_model.h"

#include "checkpoint/checkpoint.h"
#include "checkpoint/checkpoint_model.h"
#include "checkpoint/model_options.h"
#include "data/byte_tokenizer.h"
#include "export/errors.h"
#include "formats/model_names.h"
#include "kernels/gguf_model.h"
#include "layers/quantize.h"
#include "layers/tensor_io.h"

namespace bitnet::exporting {

QuantizedModel quantize_checkpoint(const std::string& dir) {
  QuantizedModel out;
  out.checkpoint_dir = dir;
  CheckpointContents ckpt;
  try {
    ckpt = load_checkpoint(dir);
  } catch (const std::exception& e) {
    throw ExportError(std::string("cannot load checkpoint: ") + e.what());
  }
  out.config = parse_config(ckpt.config_yaml, dir + "/config.yaml");
  const RunConfig& c = out.config;
  if (c.lora.rank > 0) {  // its model.safetensors holds only adapters; merging is a choice with a drift to see
    throw ExportError(dir + " is a LoRA checkpoint (adapters only, lora.rank=" + std::to_string(c.lora.rank) +
                      "): merge the adapters into the base first with `bitnet lora merge " + dir +
                      " --out DIR` (it reports the drift), then export DIR/latest");
  }
  if (c.quant.mode != QuantMode::kTernary) {
    throw ExportError(dir + ": quant.mode is \"" + enum_name(c.quant.mode) +
                      "\": only ternary (quant.mode: ternary) checkpoints can be packed into ternary formats");
  }
  // The checkpoint's own copy of tokenizer.json, so an export does not depend on the original file
  // still being where the config said.
  out.tokenizer = checkpoint_tokenizer(dir, c);
  const int64_t vocab = c.model.vocab_size > 0 ? c.model.vocab_size : out.tokenizer->vocab_size();
  out.options = model_options(c, vocab);
  out.latent = std::move(ckpt.model);
  for (auto& [name, t] : out.latent) t = t.to(torch::kFloat).contiguous();

  for (int64_t l = 0; l < out.options.num_layers; ++l) {
    for (const auto& pn : formats::projection_names()) {
      QuantizedProjection p;
      p.layer = l;
      p.gguf_stem = pn.gguf;
      p.hf_name = formats::hf_layer_name(l, pn.hf);
      auto it = out.latent.find(p.hf_name);
      if (it == out.latent.end()) throw ExportError(dir + ": checkpoint has no tensor " + p.hf_name);
      const torch::Tensor& w = it->second;
      p.rows = w.size(0);
      p.cols = w.size(1);
      if (p.cols % 256 != 0) {
        throw ExportError(p.hf_name + " has input width " + std::to_string(p.cols) +
                          ": TQ1_0/TQ2_0 pack 256 weights per block along a row, so every projection's "
                          "input width (model.hidden_size and model.intermediate_size) must be a multiple of 256");
      }
      torch::Tensor codes = ternary_weight_codes(w).contiguous();
      p.codes.assign(codes.data_ptr<int8_t>(), codes.data_ptr<int8_t>() + codes.numel());
      const float s_w = ternary_weight_scale(w).item<float>();
      p.scale = 1.0f / s_w;
      out.projections.push_back(std::move(p));
    }
  }
  return out;
}

BitNetLM build_torch_model(const QuantizedModel& model) {
  BitNetLM lm(model.options);
  try {
    load_parameters(*lm, model.latent);
  } catch (const std::exception& e) {
    throw ExportError(model.checkpoint_dir + ": " + e.what());
  }
  lm->eval();
  return lm;
}

}  // namespace bitnet::exporting
