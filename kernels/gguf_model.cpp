// GGUF export -> ModelWeights (see gguf_model.h for the contract). Every value read from the file
// is checked before it sizes anything; errors name the file and the key or tensor.
#include "kernels/gguf_model.h"

#include <cmath>
#include <cstring>
#include <set>

#include "formats/dtype.h"
#include "formats/model_names.h"
#include "formats/ternary_pack.h"
#include "kernels/errors.h"

namespace bitnet::kernels {
namespace {

using formats::GgmlType;
using formats::gguf_block_name;
using formats::GgufReader;
using formats::GgufTensorInfo;
using formats::GgufValue;
namespace key = formats::gguf_key;

constexpr int64_t kMaxDim = int64_t{1} << 24;  // sanity bound on any hyper-parameter

[[noreturn]] void fail(const GgufReader& r, const std::string& what) {
  throw KernelError(r.path() + ": " + what);
}

// An integer key of any GGUF integer type, in [lo, hi].
int64_t get_int(const GgufReader& r, const std::string& key, int64_t lo, int64_t hi, bool required, int64_t fallback) {
  const GgufValue* v = r.find_kv(key);
  if (v == nullptr) {
    if (required) fail(r, "missing key \"" + key + "\"");
    return fallback;
  }
  int64_t out = 0;
  bool ok = true;
  if (auto p = std::get_if<uint32_t>(v))
    out = *p;
  else if (auto p = std::get_if<int32_t>(v))
    out = *p;
  else if (auto p = std::get_if<uint64_t>(v)) {
    ok = *p <= uint64_t(INT64_MAX);
    out = ok ? int64_t(*p) : 0;
  } else if (auto p = std::get_if<int64_t>(v))
    out = *p;
  else if (auto p = std::get_if<uint16_t>(v))
    out = *p;
  else if (auto p = std::get_if<uint8_t>(v))
    out = *p;
  else
    fail(r, "key \"" + key + "\" must be an integer, found " +
                formats::gguf_value_type_name(formats::gguf_value_type(*v)));
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
  if (auto p = std::get_if<float>(v))
    out = *p;
  else if (auto p = std::get_if<double>(v))
    out = *p;
  else
    fail(r, "key \"" + key + "\" must be a float");
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
    if (t->ne != ne)
      fail(r_, "tensor \"" + name + "\" has shape " + describe_ne(t->ne) + ", expected " + describe_ne(ne));
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

TernaryMatrix load_projection(const GgufReader& r, TensorSet& ts, int64_t layer, const char* stem, int64_t rows,
                              int64_t cols, KernelPath path, GgmlType* type_out) {
  const std::string name = gguf_block_name(layer, stem, "weight");
  if (cols % formats::kTernaryBlock != 0) {
    fail(r, "tensor \"" + name + "\": input width " + std::to_string(cols) + " is not a multiple of 256");
  }
  const GgufTensorInfo& t = ts.need(name, {cols, rows}, {GgmlType::TQ2_0, GgmlType::TQ1_0});
  // The first projection of layer 0 decides the ternary type of the file.
  const char* first = formats::projection_names().front().gguf;
  if (layer == 0 && std::strcmp(stem, first) == 0) *type_out = t.type;
  if (t.type != *type_out)
    fail(r, "tensor \"" + name + "\" is " + formats::ggml_type_name(t.type) + " but " + first + " of layer 0 is " +
                formats::ggml_type_name(*type_out) + " (mixed ternary types are not supported)");
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
  const GgufValue* model = r.find_kv(key::kTokenizerModel);
  if (model == nullptr || !std::holds_alternative<std::string>(*model))
    fail(r, "missing string key \"tokenizer.ggml.model\"");
  v.model = std::get<std::string>(*model);
  if (const GgufValue* pre = r.find_kv(key::kTokenizerPre); pre && std::holds_alternative<std::string>(*pre))
    v.pre = std::get<std::string>(*pre);
  v.tokens = get_strings(r, key::kTokens);
  if (static_cast<int64_t>(v.tokens.size()) != vocab_size) {
    fail(r, "tokenizer has " + std::to_string(v.tokens.size()) + " tokens but token_embd has " +
                std::to_string(vocab_size) + " rows");
  }
  if (const GgufValue* types = r.find_kv(key::kTokenType)) {
    auto p = std::get_if<std::vector<int32_t>>(types);
    if (p == nullptr || p->size() != v.tokens.size())
      fail(r, "tokenizer.ggml.token_type must be an INT32 array with one entry per token");
    v.token_types = *p;
  }
  if (r.find_kv(key::kMerges) != nullptr) v.merges = get_strings(r, key::kMerges);
  auto id = [&](const char* key) { return static_cast<int32_t>(get_int(r, key, 0, vocab_size - 1, false, -1)); };
  v.bos = id(key::kBosId);
  v.eos = id(key::kEosId);
  v.pad = id(key::kPadId);
  return v;
}

}  // namespace

LoadedModel load_gguf_model(const std::string& file, KernelPath path) {
  try {
    return load_gguf_model(GgufReader::open(file), path);
  } catch (const formats::FormatError& e) {
    throw KernelError(e.what());
  }
}

LoadedModel load_gguf_model(const GgufReader& r, KernelPath path) {
  LoadedModel out;
  const GgufValue* arch_v = r.find_kv(key::kArchitecture);
  if (arch_v == nullptr || !std::holds_alternative<std::string>(*arch_v))
    fail(r, "missing string key \"general.architecture\"");
  const std::string arch = std::get<std::string>(*arch_v);
  ModelSpec& s = out.weights.spec;
  if (arch == formats::kGgufArchSilu) {
    s.act = formats::HiddenAct::silu;
  } else if (arch == formats::kGgufArchRelu2) {
    s.act = formats::HiddenAct::relu2;
  } else {
    fail(r, "architecture \"" + arch + "\" is not a BitNet model (expected \"bitnet\" or \"bitnet-b1.58\")");
  }
  if (const GgufValue* act = r.find_kv(key::kHiddenAct)) {
    const std::string* a = std::get_if<std::string>(act);
    const char* want = enum_name(s.act);
    if (a == nullptr || *a != want) {
      fail(r, std::string("key \"") + key::kHiddenAct + "\" says \"" + (a ? *a : "?") + "\" but architecture \"" +
                  arch + "\" computes " + want);
    }
  }
  out.architecture = arch;
  auto arch_key = [&](const char* suffix) { return formats::gguf_arch_key(arch, suffix); };
  s.hidden_size = get_int(r, arch_key(key::kEmbeddingLength), 1, kMaxDim, true, 0);
  s.num_layers = get_int(r, arch_key(key::kBlockCount), 1, 4096, true, 0);
  s.intermediate_size = get_int(r, arch_key(key::kFeedForwardLength), 1, kMaxDim, true, 0);
  s.num_heads = get_int(r, arch_key(key::kHeadCount), 1, s.hidden_size, true, 0);
  s.num_kv_heads = get_int(r, arch_key(key::kHeadCountKv), 1, s.num_heads, false, s.num_heads);
  s.max_seq_len = get_int(r, arch_key(key::kContextLength), 1, kMaxDim, true, 0);
  s.rms_norm_eps = get_float(r, arch_key(key::kRmsEpsilon), true, 0.0f);
  s.rope_theta = get_float(r, arch_key(key::kRopeFreqBase), false, 10000.0f);
  if (s.hidden_size % s.num_heads != 0 || s.num_heads % s.num_kv_heads != 0) {
    fail(r, "hidden size " + std::to_string(s.hidden_size) + ", heads " + std::to_string(s.num_heads) +
                " and kv heads " + std::to_string(s.num_kv_heads) + " are inconsistent");
  }
  get_int(r, arch_key(key::kRopeDimensionCount), s.head_dim(), s.head_dim(), false, 0);  // partial RoPE unsupported

  TensorSet ts(r);
  const GgufTensorInfo* embd = r.find("token_embd.weight");
  if (embd == nullptr) fail(r, "missing tensor \"token_embd.weight\"");
  if (embd->ne.size() != 2 || embd->ne[0] != s.hidden_size || embd->ne[1] < 1 || embd->ne[1] > kMaxDim) {
    fail(r, "tensor \"token_embd.weight\" has shape " + describe_ne(embd->ne) + ", expected {" +
                std::to_string(s.hidden_size) + ", vocab}");
  }
  s.vocab_size = embd->ne[1];
  get_int(r, arch_key(key::kVocabSize), s.vocab_size, s.vocab_size, false, 0);
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
  out.embd_type = load_table(formats::kEmbeddingTensor.gguf, &out.weights.embedding, &out.weights.token_table);
  s.tie_embeddings = !ts.has(formats::kLmHeadTensor.gguf);
  if (!s.tie_embeddings) {
    if (arch == formats::kGgufArchSilu)
      fail(r,
           "architecture \"bitnet\" has no output.weight (llama.cpp ties the head); an untied model must be "
           "\"bitnet-b1.58\"");
    load_table(formats::kLmHeadTensor.gguf, &out.weights.lm_head, &out.weights.output_table);
  }
  out.weights.final_norm = ts.f32(formats::kFinalNormTensor.gguf, {s.hidden_size});
  const int64_t H = s.hidden_size, I = s.intermediate_size, KV = s.kv_dim();
  out.weights.layers.resize(static_cast<size_t>(s.num_layers));
  for (int64_t l = 0; l < s.num_layers; ++l) {
    ModelWeights::Layer& L = out.weights.layers[static_cast<size_t>(l)];
    const auto& norm_names = formats::layer_norm_names();
    const auto norms = L.norms();
    for (size_t n = 0; n < norms.size(); ++n) {
      *norms[n] = ts.f32(gguf_block_name(l, norm_names[n].gguf), {norm_names[n].intermediate_width ? I : H});
    }
    // Output rows x input columns of each projection, in the name table's order.
    const int64_t shapes[7][2] = {{H, H}, {KV, H}, {KV, H}, {H, H}, {I, H}, {I, H}, {H, I}};
    const auto& proj_names = formats::projection_names();
    const auto projections = L.projections();
    for (size_t k = 0; k < projections.size(); ++k) {
      *projections[k] =
          load_projection(r, ts, l, proj_names[k].gguf, shapes[k][0], shapes[k][1], path, &out.weight_type);
    }
  }
  ts.check_all_used();
  out.vocab = load_vocab(r, s.vocab_size);
  validate_weights(out.weights);
  return out;
}

}  // namespace bitnet::kernels
