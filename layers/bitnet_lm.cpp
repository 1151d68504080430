// BitNetLM and its decoder layer (see bitnet_lm.h).
#include "layers/bitnet_lm.h"

#include <stdexcept>

namespace bitnet {

DecoderLayerImpl::DecoderLayerImpl(const BitNetOptions& o) {
  input_layernorm = register_module("input_layernorm", RMSNorm(o.hidden_size, o.rms_norm_eps));
  self_attn = register_module("self_attn", Attention(AttentionOptions{.hidden_size = o.hidden_size,
                                                                      .num_heads = o.num_heads,
                                                                      .num_kv_heads = o.num_kv_heads,
                                                                      .rope_theta = o.rope_theta,
                                                                      .rms_norm_eps = o.rms_norm_eps,
                                                                      .quantize = o.quantize,
                                                                      .compute_dtype = o.compute_dtype}));
  post_attention_layernorm = register_module("post_attention_layernorm", RMSNorm(o.hidden_size, o.rms_norm_eps));
  mlp = register_module("mlp", FeedForward(FeedForwardOptions{.hidden_size = o.hidden_size,
                                                              .intermediate_size = o.intermediate_size,
                                                              .activation = o.activation,
                                                              .rms_norm_eps = o.rms_norm_eps,
                                                              .quantize = o.quantize,
                                                              .compute_dtype = o.compute_dtype}));
}

torch::Tensor DecoderLayerImpl::forward(const torch::Tensor& x, const torch::Tensor& doc_ids) {
  torch::Tensor h = x + self_attn(input_layernorm(x), doc_ids);
  return h + mlp(post_attention_layernorm(h));
}

BitNetModelImpl::BitNetModelImpl(const BitNetOptions& o) : options_(o) {
  embed_tokens = register_module("embed_tokens", torch::nn::Embedding(o.vocab_size, o.hidden_size));
  layers = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < o.num_layers; ++i) layers->push_back(DecoderLayer(o));
  norm = register_module("norm", RMSNorm(o.hidden_size, o.rms_norm_eps));
}

torch::Tensor BitNetModelImpl::forward(const torch::Tensor& tokens, const torch::Tensor& doc_ids) {
  torch::Tensor x = embed_tokens(tokens).to(options_.compute_dtype);  // (B, T, C)
  for (const auto& layer : *layers) x = layer->as<DecoderLayer>()->forward(x, doc_ids);
  return norm(x);
}

BitNetLMImpl::BitNetLMImpl(const BitNetOptions& o) : options_(o) {
  model = register_module("model", BitNetModel(o));
  if (!o.tie_embeddings) {
    lm_head = register_module("lm_head",
                              torch::nn::Linear(torch::nn::LinearOptions(o.hidden_size, o.vocab_size).bias(false)));
  }
}

torch::Tensor BitNetLMImpl::forward(const torch::Tensor& tokens, const torch::Tensor& doc_ids) {
  torch::Tensor h = model(tokens, doc_ids);                                             // (B, T, C)
  const torch::Tensor& head = lm_head ? lm_head->weight : model->embed_tokens->weight;  // (V, C)
  return torch::nn::functional::linear(h, head.to(h.scalar_type())).to(torch::kFloat);
}

void BitNetLMImpl::set_quant_lambda(double lambda) {
  for (auto& [name, linear] : bit_linears()) linear->set_quant_lambda(lambda);
}

std::vector<std::pair<std::string, BitLinear>> BitNetLMImpl::bit_linears() {
  std::vector<std::pair<std::string, BitLinear>> out;
  for (const auto& item : named_modules("", /*include_self=*/false)) {
    if (auto linear = std::dynamic_pointer_cast<BitLinearImpl>(item.value())) {
      out.emplace_back(item.key(), BitLinear(linear));
    }
  }
  return out;
}

void BitNetLMImpl::replace_projection(const std::string& name, std::shared_ptr<BitLinearImpl> replacement) {
  const size_t dot = name.rfind('.');
  const auto modules = named_modules("", /*include_self=*/false);
  const std::shared_ptr<torch::nn::Module>* owner =
      dot == std::string::npos ? nullptr : modules.find(name.substr(0, dot));
  if (owner != nullptr) {
    const std::string leaf = name.substr(dot + 1);
    if (auto attention = std::dynamic_pointer_cast<AttentionImpl>(*owner)) {
      attention->replace_projection(leaf, std::move(replacement));
      return;
    }
    if (auto mlp = std::dynamic_pointer_cast<FeedForwardImpl>(*owner)) {
      mlp->replace_projection(leaf, std::move(replacement));
      return;
    }
  }
  throw std::invalid_argument("'" + name + "' is not a projection of the model (e.g. model.layers.0.self_attn.q_proj)");
}

void BitNetLMImpl::reset_parameters(uint64_t seed) {
  torch::NoGradGuard no_grad;
  auto generator = at::detail::createCPUGenerator(seed);
  for (auto& item : named_parameters()) {
    torch::Tensor& p = item.value();
    if (p.dim() == 1) {
      p.fill_(1.0);  // RMSNorm weights
    } else {
      p.normal_(0.0, options_.init_std, generator);
    }
  }
}

int64_t BitNetLMImpl::num_parameters() const {
  int64_t n = 0;
  for (const auto& p : parameters()) n += p.numel();
  return n;
}

}  // namespace bitnet
