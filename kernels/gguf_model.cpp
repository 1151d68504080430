// GGUF export -> ModelWeights (see gguf_model.h for the contract). Every value read from the file
// is checked before it sizes anything; errors name the file and the key or tensor.
#include "kernels/gguf_model.h"

#include <cmath>
#include <cstring>
#include <set>

#include "formats/dtype.h"
#include "formats/ternary_pack.h"
#include "kernels/errors.h"

namespace bitnet::kernels {
namespace {

using formats::GgmlType;
using formats::GgufReader;
using formats::GgufTensorInfo;
using formats::GgufValue;

constexpr int64_t kMaxDim = int64_t{1} << 24;  // sanity bound on any hyper-parameter

[[noreturn]] void fail(const GgufReader& r, const std::string& what) {
  throw KernelError(r.path() + ": " + what);
}

// An integer key of any GGUF integer type, in [lo, hi].
int64_t get_int(const GgufReader& r, const std::string& key, int64_t lo, int64_t hi, bool required,
                int64_t fallback) {
  const GgufValue* v = r.find_kv(key);
  if (v == nullptr) {
    if (required) fail(r, "missing key \"" + key + "\"");
    return fallback;
  }
  int64_t out = 0;
  bool ok = true;
  if (auto p = std::get_if<uint32_t>(v)) out = *p;
  else if (auto p = std::get_if<int32_t>(v)) out = *p;
  else if (auto p = std::get_if<uint64_t>(v)) { ok = *p <= uint64_t(INT64_MAX); out = ok ? int64_t(*p) : 0; }
  else if (auto p = std::get_if<int64_t>(v)) out = *p;
  else if (auto p = std::get_if<uint16_t>(v)) out = *p;
  else if (auto p = std::get_if<uint8_t>(v)) out = *p;
  else fail(r, "key \"" + key + "\" must be an integer, found " + formats::gguf_value_type_name(formats::gguf_value_type(*v)));
  if (!ok || out < lo || out > hi) {
    fail(r, "key \"" + key + "\" = " + std::to_string(out) + " is outside [" + std::to_string(lo) + ", " +
                std::to_string(hi) + "]");
  }
  return out;
}

float get_float(const GgufReader& r, const std::string& key, bool required, float fallback) {
  const GgufValue* v = r.find_kv(key);
  if (v == nullptr) {
    if (required) fail(r, "missing key \"" + key + "\"");
    return fallback;
  }
  double out = 0;
  if (auto p = std::get_if<float>(v)) out = *p;
  else if (auto p = std::get_if<double>(v)) out = *p;
  else fail(r, "key \"" + key + "\" must be a float");
  if (!std::isfinite(out)) fail(r, "key \"" + key + "\" is not finite");
  return static_cast<float>(out);
}

std::string describe_ne(const std::vector<int64_t>& ne) {
  std::string s = "{";
  for (size_t i = 0; i < ne.size(); ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
  return s + "}";
}

class TensorSet {
 public:
  explicit TensorSet(const GgufReader& r) : r_(r) {}
  const GgufTensorInfo& need(const std::string& name, const std::vector<int64_t>& ne,
                             const std::vector<GgmlType>& types) {
    const GgufTensorInfo* t = r_.find(name);
    if (t == nullptr) fail(r_, "missing tensor \"" + name + "\"");
    used_.insert(name);
    if (t->ne != ne) fail(r_, "tensor \"" + name + "\" has shape " + describe_ne(t->ne) + ", expected " + describe_ne(ne));
    bool ok = false;
    std::string allowed;
    for (GgmlType ty : types) {
      ok = ok || t->type == ty;
      allowed += std::string(allowed.empty() ? "" : "|") + formats::ggml_type_name(ty);
    }
    if (!ok) fail(r_, "tensor \"" + name + "\" has type " + formats::ggml_type_name(t->type) + ", expected " + allowed);
    return *t;
  }
  bool has(const std::string& name) const { return r_.find(name) != nullptr; }
  std::vector<float> f32(const std::string& name, const std::vector<int64_t>& ne) {
    const GgufTensorInfo& t = need(name, ne, {GgmlType::F32});
    std::vector<float> out(t.nbytes / 4);
    std::memcpy(out.data(), r_.data(t), t.nbytes);
    for (float v : out)
      if (!std::isfinite(v)) fail(r_, "tensor \"" + name + "\" holds a non-finite value");
    return out;
  }
  void check_all_used() const {
    for (const auto& t : r_.tensors())
      if (!used_.count(t.name)) fail(r_, "unexpected tensor \"" + t.name + "\" for a BitNet model");
  }

 private:
  const GgufReader& r_;
  std::set<std::string> used_;
};

TernaryMatrix load_projection(const GgufReader& r, TensorSet& ts, int64_t layer, const char* stem,
                              int64_t rows, int64_t cols, KernelPath path, GgmlType* type_out) {
  const std::string name = gguf_block_name(layer, stem, "weight");
  if (cols % formats::kTernaryBlock != 0) {
    fail(r, "tensor \"" + name + "\": input width " + std::to_string(cols) + " is not a multiple of 256");
  }
  const GgufTensorInfo& t = ts.need(name, {cols, rows}, {GgmlType::TQ2_0, GgmlType::TQ1_0});
  if (layer == 0 && std::strcmp(stem, "attn_q") == 0) *type_out = t.type;
  if (t.type != *type_out) fail(r, "tensor \"" + name + "\" is " + formats::ggml_type_name(t.type) + " but attn_q of layer 0 is " + formats::ggml_type_name(*type_out) + " (mixed ternary types are not supported)");
  std::vector<int8_t> trits(static_cast<size_t>(rows * cols));
  std::vector<float> d;
  try {
    if (t.type == GgmlType::TQ2_0) {
      formats::unpack_tq2_0(r.data(t), t.nbytes, rows, cols, trits.data(), &d);
    } else {
      formats::unpack_tq1_0(r.data(t), t.nbytes, rows, cols, trits.data(), &d);
    }
  } catch (const formats::FormatError& e) {
    fail(r, "tensor \"" + name + "\": " + e.what());
  }
  // One scale per tensor: every block that holds a non-zero code must carry the same d.
  float block_d = 0.0f;
  bool have_d = false;
  const int64_t blocks_per_row = cols / formats::kTernaryBlock;
  for (int64_t b = 0; b < static_cast<int64_t>(d.size()); ++b) {
    const int8_t* codes = trits.data() + (b / blocks_per_row) * cols + (b % blocks_per_row) * formats::kTernaryBlock;
    bool nonzero = false;
    for (int64_t i = 0; i < formats::kTernaryBlock && !nonzero; ++i) nonzero = codes[i] != 0;
    if (!nonzero) continue;
    if (!have_d) {
      block_d = d[b];
      have_d = true;
    } else if (d[b] != block_d) {
      fail(r, "tensor \"" + name + "\": block " + std::to_string(b) + " has scale d = " + std::to_string(d[b]) +
                  ", block 0 has " + std::to_string(block_d) + " (only one scale per tensor is supported)");
    }
  }
  if (!have_d) block_d = 1.0f;
  if (!std::isfinite(block_d) || block_d <= 0.0f) fail(r, "tensor \"" + name + "\": block scale d must be > 0");
  float scale = 1.0f;
  const std::string scale_name = gguf_block_name(layer, stem, "scale");
  if (ts.has(scale_name)) {
    scale = ts.f32(scale_name, {1})[0];
    if (!(scale > 0.0f)) fail(r, "tensor \"" + scale_name + "\" must be > 0, found " + std::to_string(scale));
  }
  return TernaryMatrix(trits.data(), rows, cols, block_d * scale, path);
}

std::vector<std::string> get_strings(const GgufReader& r, const std::string& key) {
  const GgufValue* v = r.find_kv(key);
  if (v == nullptr) fail(r, "missing key \"" + key + "\" (the file carries no tokenizer)");
  auto p = std::get_if<std::vector<std::string>>(v);
  if (p == nullptr) fail(r, "key \"" + key + "\" must be an array of strings");
  return *p;
}

GgufVocab load_vocab(const GgufReader& r, int64_t vocab_size) {
  GgufVocab v;
  const GgufValue* model = r.find_kv("tokenizer.ggml.model");
  if (model == nullptr || !std::holds_alternative<std::string>(*model)) fail(r, "missing string key \"tokenizer.ggml.model\"");
  v.model = std::get<std::string>(*model);
  if (const GgufValue* pre = r.find_kv("tokenizer.ggml.pre"); pre && std::holds_alternative<std::string>(*pre))
    v.pre = std::get<std::string>(*pre);
  v.tokens = get_strings(r, "tokenizer.ggml.tokens");
  if (static_cast<int64_t>(v.tokens.size()) != vocab_size) {
    fail(r, "tokenizer has " + std::to_string(v.tokens.size()) + " tokens but token_embd has " + std::to_string(vocab_size) + " rows");
  }
  if (const GgufValue* types = r.find_kv("tokenizer.ggml.token_type")) {
    auto p = std::get_if<std::vector<int32_t>>(types);
    if (p == nullptr || p->size() != v.tokens.size()) fail(r, "tokenizer.ggml.token_type must be an INT32 array with one entry per token");
    v.token_types = *p;
  }
  if (r.find_kv("tokenizer.ggml.merges") != nullptr) v.merges = get_strings(r, "tokenizer.ggml.merges");
  auto id = [&](const char* key) {
    return static_cast<int32_t>(get_int(r, key, 0, vocab_size - 1, false, -1));
  };
  v.bos = id("tokenizer.ggml.bos_token_id");
  v.eos = id("tokenizer.ggml.eos_token_id");
  v.pad = id("tokenizer.ggml.padding_token_id");
  return v;
}

}  // namespace

const std::vector<ProjectionName>& projection_names() {
  static const std::vector<ProjectionName> names = {
      {"attn_q", "self_attn.q_proj"},   {"attn_k", "self_attn.k_proj"}, {"attn_v", "self_attn.v_proj"},
      {"attn_output", "self_attn.o_proj"}, {"ffn_gate", "mlp.gate_proj"}, {"ffn_up", "mlp.up_proj"},
      {"ffn_down", "mlp.down_proj"}};
  return names;
}

std::string gguf_block_name(int64_t layer, const std::string& stem, const std::string& suffix) {
  return "blk." + std::to_string(layer) + "." + stem + "." + suffix;
}

LoadedModel load_gguf_model(const std::string& file, KernelPath path) {
  try {
    return load_gguf_model(GgufReader::open(file), path);
  } catch (const formats::FormatError& e) {
    throw KernelError(e.what());
  }
}

LoadedModel load_gguf_model(const GgufReader& r, KernelPath path) {
  LoadedModel out;
  const GgufValue* arch_v = r.find_kv("general.architecture");
  if (arch_v == nullptr || !std::holds_alternative<std::string>(*arch_v)) fail(r, "missing string key \"general.architecture\"");
  const std::string arch = std::get<std::string>(*arch_v);
  ModelSpec& s = out.weights.spec;
  if (arch == kArchSilu) {
    s.act = ModelSpec::Act::silu;
  } else if (arch == kArchRelu2) {
    s.act = ModelSpec::Act::relu2;
  } else {
    fail(r, "architecture \"" + arch + "\" is not a BitNet model (expected \"bitnet\" or \"bitnet-b1.58\")");
  }
  if (const GgufValue* act = r.find_kv(kKeyHiddenAct)) {
    const std::string* a = std::get_if<std::string>(act);
    const char* want = s.act == ModelSpec::Act::silu ? "silu" : "relu2";
    if (a == nullptr || *a != want) {
      fail(r, std::string("key \"") + kKeyHiddenAct + "\" says \"" + (a ? *a : "?") + "\" but architecture \"" + arch +
                  "\" computes " + want);
    }
  }
  out.architecture = arch;
  const std::string p = arch + ".";
  s.hidden_size = get_int(r, p + "embedding_length", 1, kMaxDim, true, 0);
  s.num_layers = get_int(r, p + "block_count", 1, 4096, true, 0);
  s.intermediate_size = get_int(r, p + "feed_forward_length", 1, kMaxDim, true, 0);
  s.num_heads = get_int(r, p + "attention.head_count", 1, s.hidden_size, true, 0);
  s.num_kv_heads = get_int(r, p + "attention.head_count_kv", 1, s.num_heads, false, s.num_heads);
  s.max_seq_len = get_int(r, p + "context_length", 1, kMaxDim, true, 0);
  s.rms_norm_eps = get_float(r, p + "attention.layer_norm_rms_epsilon", true, 0.0f);
  s.rope_theta = get_float(r, p + "rope.freq_base", false, 10000.0f);
  if (s.hidden_size % s.num_heads != 0 || s.num_heads % s.num_kv_heads != 0) {
    fail(r, "hidden size " + std::to_string(s.hidden_size) + ", heads " + std::to_string(s.num_heads) + " and kv heads " +
                std::to_string(s.num_kv_heads) + " are inconsistent");
  }
  get_int(r, p + "rope.dimension_count", s.head_dim(), s.head_dim(), false, 0);  // partial RoPE unsupported

  TensorSet ts(r);
  const GgufTensorInfo* embd = r.find("token_embd.weight");
  if (embd == nullptr) fail(r, "missing tensor \"token_embd.weight\"");
  if (embd->ne.size() != 2 || embd->ne[0] != s.hidden_size || embd->ne[1] < 1 || embd->ne[1] > kMaxDim) {
    fail(r, "tensor \"token_embd.weight\" has shape " + describe_ne(embd->ne) + ", expected {" + std::to_string(s.hidden_size) + ", vocab}");
  }
  s.vocab_size = embd->ne[1];
  get_int(r, p + "vocab_size", s.vocab_size, s.vocab_size, false, 0);
  const std::vector<int64_t> table_ne = {s.hidden_size, s.vocab_size};
  const std::vector<GgmlType> table_types = {GgmlType::F32, GgmlType::F16, GgmlType::Q8_0};
  auto load_table = [&](const std::string& name, std::vector<float>* f32, TokenTable* table) {
    const GgufTensorInfo& t = ts.need(name, table_ne, table_types);
    if (t.type == GgmlType::F32) {
      f32->resize(t.nbytes / 4);
      std::memcpy(f32->data(), r.data(t), t.nbytes);
    } else {
      *table = TokenTable(t.type == GgmlType::F16 ? TokenTable::Type::f16 : TokenTable::Type::q8_0, s.vocab_size,
                          s.hidden_size, r.data(t), t.nbytes);
    }
    return t.type;
  };
  out.embd_type = load_table("token_embd.weight", &out.weights.embedding, &out.weights.token_table);
  s.tie_embeddings = !ts.has("output.weight");
  if (!s.tie_embeddings) {
    if (arch == kArchSilu) fail(r, "architecture \"bitnet\" has no output.weight (llama.cpp ties the head); an untied model must be \"bitnet-b1.58\"");
    load_table("output.weight", &out.weights.lm_head, &out.weights.output_table);
  }
  out.weights.final_norm = ts.f32("output_norm.weight", {s.hidden_size});
  const int64_t H = s.hidden_size, I = s.intermediate_size, KV = s.kv_dim();
  out.weights.layers.resize(static_cast<size_t>(s.num_layers));
  for (int64_t l = 0; l < s.num_layers; ++l) {
    ModelWeights::Layer& L = out.weights.layers[static_cast<size_t>(l)];
    L.input_norm = ts.f32(gguf_block_name(l, "attn_norm", "weight"), {H});
    L.attn_sub_norm = ts.f32(gguf_block_name(l, "attn_sub_norm", "weight"), {H});
    L.post_attn_norm = ts.f32(gguf_block_name(l, "ffn_norm", "weight"), {H});
    L.ffn_sub_norm = ts.f32(gguf_block_name(l, "ffn_sub_norm", "weight"), {I});
    GgmlType* ty = &out.weight_type;
    L.q = load_projection(r, ts, l, "attn_q", H, H, path, ty);
    L.k = load_projection(r, ts, l, "attn_k", KV, H, path, ty);
    L.v = load_projection(r, ts, l, "attn_v", KV, H, path, ty);
    L.o = load_projection(r, ts, l, "attn_output", H, H, path, ty);
    L.gate = load_projection(r, ts, l, "ffn_gate", I, H, path, ty);
    L.up = load_projection(r, ts, l, "ffn_up", I, H, path, ty);
    L.down = load_projection(r, ts, l, "ffn_down", H, I, path, ty);
  }
  ts.check_all_used();
  out.vocab = load_vocab(r, s.vocab_size);
  validate_weights(out.weights);
  return out;
}

}  // namespace bitnet::kernels
