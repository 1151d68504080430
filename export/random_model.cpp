// Random ternary models for benchmarks (see random_model.h).
#include "export/random_model.h"

#include "data/byte_tokenizer.h"
#include "formats/model_names.h"
#include "kernels/gguf_model.h"

namespace bitnet::exporting {
namespace {

uint64_t splitmix(uint64_t& s) {
  uint64_t z = (s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace

BitNetOptions shape_2b4t() {
  BitNetOptions o;
  o.vocab_size = 128256;
  o.hidden_size = 2560;
  o.num_layers = 30;
  o.num_heads = 20;
  o.num_kv_heads = 5;
  o.intermediate_size = 6912;
  o.max_seq_len = 4096;
  o.rope_theta = 500000.0;
  o.rms_norm_eps = 1e-5;
  o.tie_embeddings = true;
  o.activation = formats::HiddenAct::silu;
  return o;
}

QuantizedModel random_model(const BitNetOptions& o, uint64_t seed) {
  QuantizedModel m;
  m.checkpoint_dir = "(random)";
  m.config.name = "random-bitnet";
  m.options = o;
  m.tokenizer = std::make_shared<data::ByteTokenizer>();
  uint64_t s = seed;
  torch::manual_seed(seed);
  m.latent[formats::kEmbeddingTensor.hf] = torch::randn({o.vocab_size, o.hidden_size});
  if (!o.tie_embeddings) m.latent[formats::kLmHeadTensor.hf] = torch::randn({o.vocab_size, o.hidden_size});
  m.latent[formats::kFinalNormTensor.hf] = torch::ones({o.hidden_size});
  const int64_t kv = o.num_kv_heads * (o.hidden_size / o.num_heads);
  for (int64_t l = 0; l < o.num_layers; ++l) {
    for (const formats::LayerNormName& n : formats::layer_norm_names()) {
      m.latent[formats::hf_layer_name(l, n.hf)] =
          torch::ones({n.intermediate_width ? o.intermediate_size : o.hidden_size});
    }
    const int64_t rows[] = {o.hidden_size,       kv,           kv, o.hidden_size, o.intermediate_size,
                            o.intermediate_size, o.hidden_size};
    const int64_t cols[] = {o.hidden_size, o.hidden_size, o.hidden_size,      o.hidden_size,
                            o.hidden_size, o.hidden_size, o.intermediate_size};
    const auto& names = formats::projection_names();
    for (size_t k = 0; k < names.size(); ++k) {
      QuantizedProjection q;
      q.layer = l;
      q.gguf_stem = names[k].gguf;
      q.hf_name = formats::hf_layer_name(l, names[k].hf);
      q.rows = rows[k];
      q.cols = cols[k];
      q.codes.resize(static_cast<size_t>(q.rows * q.cols));
      for (size_t i = 0; i < q.codes.size(); i += 32) {
        uint64_t r = splitmix(s);
        for (size_t j = i; j < std::min(q.codes.size(), i + 32); ++j, r >>= 2) q.codes[j] = int8_t((r & 3) % 3) - 1;
      }
      q.scale = 1.0f / std::sqrt(float(q.cols) * 2.0f / 3.0f);
      m.projections.push_back(std::move(q));
    }
  }
  return m;
}

}  // namespace bitnet::exporting
