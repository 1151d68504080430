// Config -> BitNetLM options (see model_options.h).
#include "checkpoint/model_options.h"

namespace bitnet {

BitNetOptions model_options(const RunConfig& c, int64_t vocab_size, torch::Dtype compute_dtype) {
  BitNetOptions o;
  o.vocab_size = vocab_size;
  o.hidden_size = c.model.hidden_size;
  o.num_layers = c.model.num_layers;
  o.num_heads = c.model.num_heads;
  o.num_kv_heads = c.model.num_kv_heads;
  o.intermediate_size = c.model.intermediate_size;
  o.max_seq_len = c.model.max_seq_len;
  o.rope_theta = c.model.rope_theta;
  o.rms_norm_eps = c.model.rms_norm_eps;
  o.tie_embeddings = c.model.tie_embeddings;
  o.activation = c.model.hidden_act;
  o.quantize = c.quant.mode == QuantMode::kTernary;
  o.compute_dtype = compute_dtype;
  o.init_std = c.model.init_std;
  return o;
}

}  // namespace bitnet
