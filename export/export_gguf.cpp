// QuantizedModel -> GGUF (see export_files.h and docs/formats.md).
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>

#include "data/bpe_tokenizer.h"
#include "data/byte_level.h"
#include "data/chat_template.h"
#include "data/error.h"
#include "export/errors.h"
#include "export/export_files.h"
#include "formats/dtype.h"
#include "formats/gguf.h"
#include "formats/model_names.h"
#include "formats/q8_0.h"
#include "formats/ternary_pack.h"

namespace bitnet::exporting {
namespace {

using formats::GgmlType;
using formats::gguf_block_name;
namespace key = formats::gguf_key;

// llama.cpp token types.
constexpr int32_t kTokenNormal = 1, kTokenControl = 3, kTokenUnused = 5;

constexpr int32_t kTokenUserDefined = 4;

// The special ids. llama.cpp adds BOS to a prompt when the tokenizer does (a tokenizer.json whose
// post-processor or tokenizer_config.json says so: LLaMA 3's official files); the byte tokenizer
// adds nothing (our documents start after an EOS). EOS is never added.
void set_special_ids(formats::GgufWriter& w, const data::Tokenizer& tok, bool add_bos) {
  w.set(key::kBosId, static_cast<uint32_t>(tok.bos_id()));
  w.set(key::kEosId, static_cast<uint32_t>(tok.eos_id()));
  w.set(key::kPadId, static_cast<uint32_t>(tok.pad_id()));
  w.set(key::kAddBos, add_bos);
  w.set(key::kAddEos, false);
}

// How a runtime chats with the model: the Jinja of the run's data.chat_template (the template its
// chat rows were rendered with) and the token that ends a turn, where generation stops.
void set_chat_keys(formats::GgufWriter& w, const RunConfig& config, const data::Tokenizer& tok) {
  const data::ChatTemplate t = config.data.chat_template;
  int32_t eot = 0;
  try {
    eot = data::end_of_turn_id(t, tok);
  } catch (const data::DataError& e) {
    throw ExportError(std::string("the run's data.chat_template cannot be written to the GGUF file: ") + e.what());
  }
  w.set(key::kChatTemplate, data::chat_template_jinja(t));
  w.set(key::kEotId, static_cast<uint32_t>(eot));
}

// gguf-py's size label ("12M", "2.4B"): at least two significant digits, K/M/B/T.
std::string size_label(int64_t parameters) {
  const double n = static_cast<double>(parameters);
  double scaled = n * 1e-3;
  const char* suffix = "K";
  if (n > 1e12) {
    scaled = n * 1e-12;
    suffix = "T";
  } else if (n > 1e9) {
    scaled = n * 1e-9;
    suffix = "B";
  } else if (n > 1e6) {
    scaled = n * 1e-6;
    suffix = "M";
  }
  const double whole = std::nearbyint(scaled);  // Python's round(): ties to even
  const int digits = whole >= 1 ? static_cast<int>(std::to_string(static_cast<int64_t>(whole)).size()) : 0;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f%s", std::max(2 - digits, 0), scaled, suffix);
  return buf;
}

// A BPE tokenizer.json as a "gpt2" vocabulary: every token's byte-level text, the merges in rank
// order, added tokens as control (special) or user-defined, and the pre-tokenizer by the name
// llama.cpp knows its regex by ("llama-bpe" for LLaMA 3, which also skips merges for whole
// vocabulary pieces, as tokenizer.json's ignore_merges does; "gpt-2").
void add_bpe_tokenizer(formats::GgufWriter& w, const data::BpeTokenizer& tok, int64_t vocab) {
  const std::string pre = data::gguf_pre_name(tok.split_pattern());
  if (pre.empty()) {
    throw ExportError(
        "the tokenizer's pre-tokenizer regex is neither LLaMA 3's nor GPT-2's, so llama.cpp has no "
        "name for it (tokenizer.ggml.pre): GGUF export supports those two BPE tokenizers");
  }
  if ((pre == "llama-bpe") != tok.ignore_merges()) {
    throw ExportError("tokenizer.json's model.ignore_merges does not match what llama.cpp does for pre-tokenizer \"" +
                      pre + "\", so the two would tokenize differently");
  }
  std::vector<std::string> tokens;
  std::vector<int32_t> types;
  for (int32_t id = 0; id < vocab; ++id) {
    std::string text;
    if (id < tok.vocab_size()) text = tok.token_text(id);
    if (text.empty()) {
      tokens.push_back("<unused_" + std::to_string(id) + ">");
      types.push_back(kTokenUnused);
    } else {
      tokens.push_back(text);
      types.push_back(!tok.is_added(id) ? kTokenNormal : tok.is_special(id) ? kTokenControl : kTokenUserDefined);
    }
  }
  w.set(key::kTokenizerModel, "gpt2");
  w.set(key::kTokenizerPre, pre);
  w.set(key::kTokens, std::move(tokens));
  w.set(key::kTokenType, std::move(types));
  w.set(key::kMerges, tok.merges_in_rank_order());
  set_special_ids(w, tok, tok.adds_bos());
}

// A "gpt2" vocabulary without merges: token b (< 256) is byte b written in the GPT-2 byte-level
// alphabet, so llama.cpp's BPE tokenizer, finding no merge, emits one token per byte = our id.
void add_tokenizer(formats::GgufWriter& w, const data::Tokenizer& tok, int64_t vocab) {
  if (const auto* bpe = dynamic_cast<const data::BpeTokenizer*>(&tok)) {
    add_bpe_tokenizer(w, *bpe, vocab);
    return;
  }
  if (tok.type() != data::TokenizerType::kByte) {
    throw ExportError(std::string("tokenizer.type \"") + enum_name(tok.type()) +
                      "\": GGUF export supports the byte and bpe tokenizers");
  }
  std::vector<std::string> tokens;
  std::vector<int32_t> types;
  for (int32_t id = 0; id < vocab; ++id) {
    if (id < 256) {
      tokens.push_back(data::bytes_to_byte_level(std::string(1, static_cast<char>(id))));
      types.push_back(kTokenNormal);
    } else if (id < tok.vocab_size()) {
      tokens.push_back(tok.token_text(id));
      types.push_back(kTokenControl);
    } else {
      tokens.push_back("<unused_" + std::to_string(id) + ">");
      types.push_back(kTokenUnused);
    }
  }
  w.set(key::kTokenizerModel, "gpt2");
  w.set(key::kTokenizerPre, "default");
  w.set(key::kTokens, std::move(tokens));
  w.set(key::kTokenType, std::move(types));
  w.set(key::kMerges, std::vector<std::string>{});
  set_special_ids(w, tok, false);
}

}  // namespace

TernaryType parse_ternary_type(const std::string& name) {
  if (name == "tq2_0") return TernaryType::tq2_0;
  if (name == "tq1_0") return TernaryType::tq1_0;
  throw ExportError("--type \"" + name + "\": expected tq2_0 or tq1_0");
}

EmbdType parse_embd_type(const std::string& name) {
  if (name == "f32") return EmbdType::f32;
  if (name == "f16") return EmbdType::f16;
  if (name == "q8_0") return EmbdType::q8_0;
  throw ExportError("--embd-type \"" + name + "\": expected f16, q8_0 or f32");
}

std::string gguf_architecture(const BitNetOptions& o) {
  if (o.activation == formats::HiddenAct::relu2) return formats::kGgufArchRelu2;
  if (!o.tie_embeddings) {
    throw ExportError(
        "a SiLU model with an untied LM head has no GGUF architecture: llama.cpp's \"bitnet\" graph "
        "always uses token_embd as the head and would silently compute another model "
        "(train with model.tie_embeddings: true)");
  }
  return formats::kGgufArchSilu;
}

ExportSummary write_gguf(const QuantizedModel& m, const std::string& path, TernaryType type, EmbdType embd) {
  const BitNetOptions& o = m.options;
  const std::string arch = gguf_architecture(o);
  ExportSummary sum;
  sum.path = path;
  sum.architecture = arch;
  formats::GgufWriter w;
  auto arch_key = [&](const char* suffix) { return formats::gguf_arch_key(arch, suffix); };
  w.set(key::kArchitecture, arch);
  w.set(key::kType, "model");
  w.set(key::kName, m.config.name);
  w.set(key::kBasename, m.config.name);
  w.set(key::kFileType, uint32_t{type == TernaryType::tq2_0 ? 37u : 36u});
  w.set(key::kQuantizationVersion, uint32_t{2});
  w.set(arch_key(key::kVocabSize), static_cast<uint32_t>(o.vocab_size));
  w.set(arch_key(key::kContextLength), static_cast<uint32_t>(o.max_seq_len));
  w.set(arch_key(key::kEmbeddingLength), static_cast<uint32_t>(o.hidden_size));
  w.set(arch_key(key::kBlockCount), static_cast<uint32_t>(o.num_layers));
  w.set(arch_key(key::kFeedForwardLength), static_cast<uint32_t>(o.intermediate_size));
  w.set(arch_key(key::kHeadCount), static_cast<uint32_t>(o.num_heads));
  w.set(arch_key(key::kHeadCountKv), static_cast<uint32_t>(o.num_kv_heads));
  w.set(arch_key(key::kRmsEpsilon), static_cast<float>(o.rms_norm_eps));
  w.set(arch_key(key::kRopeFreqBase), static_cast<float>(o.rope_theta));
  w.set(arch_key(key::kRopeDimensionCount), static_cast<uint32_t>(o.hidden_size / o.num_heads));
  w.set(key::kHiddenAct, enum_name(o.activation));
  add_tokenizer(w, *m.tokenizer, o.vocab_size);
  set_chat_keys(w, m.config, *m.tokenizer);

  // Everything below must stay alive until w.write().
  // (deques: growing them never moves the elements already handed to the writer)
  std::deque<std::vector<uint8_t>> blobs;
  std::deque<std::vector<float>> floats;
  auto add = [&](const std::string& name, GgmlType ty, std::vector<int64_t> ne, const void* data, size_t nbytes) {
    w.add_tensor({name, ty, std::move(ne), data, nbytes});
    ++sum.tensors;
  };
  auto f32 = [&](const std::string& name, const std::string& hf) {
    auto it = m.latent.find(hf);
    if (it == m.latent.end()) throw ExportError(m.checkpoint_dir + ": checkpoint has no tensor " + hf);
    const torch::Tensor& t = it->second;
    floats.emplace_back(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
    add(name, GgmlType::F32, {t.numel()}, floats.back().data(), floats.back().size() * 4);
    sum.parameters += t.numel();
  };
  auto table = [&](const std::string& name, const std::string& hf) {
    auto it = m.latent.find(hf);
    if (it == m.latent.end()) throw ExportError(m.checkpoint_dir + ": checkpoint has no tensor " + hf);
    const torch::Tensor& t = it->second;
    const float* x = t.data_ptr<float>();
    const int64_t n = t.numel();
    std::vector<uint8_t> bytes;
    GgmlType ty = GgmlType::F32;
    if (embd == EmbdType::q8_0) {
      if (o.hidden_size % 32 != 0) throw ExportError("--embd-type q8_0 needs model.hidden_size to be a multiple of 32");
      bytes = formats::quantize_q8_0(x, n);
      ty = GgmlType::Q8_0;
    } else if (embd == EmbdType::f16) {
      bytes.resize(static_cast<size_t>(n) * 2);
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t h = formats::float_to_half(x[i]);
        std::memcpy(bytes.data() + 2 * i, &h, 2);
      }
      ty = GgmlType::F16;
    } else {
      bytes.resize(static_cast<size_t>(n) * 4);
      std::memcpy(bytes.data(), x, bytes.size());
    }
    blobs.push_back(std::move(bytes));
    add(name, ty, {o.hidden_size, o.vocab_size}, blobs.back().data(), blobs.back().size());
    sum.parameters += n;
  };

  table(formats::kEmbeddingTensor.gguf, formats::kEmbeddingTensor.hf);
  if (!o.tie_embeddings) table(formats::kLmHeadTensor.gguf, formats::kLmHeadTensor.hf);
  f32(formats::kFinalNormTensor.gguf, formats::kFinalNormTensor.hf);
  size_t next = 0;
  for (int64_t l = 0; l < o.num_layers; ++l) {
    for (const formats::LayerNormName& n : formats::layer_norm_names()) {
      f32(gguf_block_name(l, n.gguf), formats::hf_layer_name(l, n.hf));
    }
    for (size_t k = 0; k < formats::projection_names().size(); ++k, ++next) {
      const QuantizedProjection& q = m.projections.at(next);
      blobs.push_back(type == TernaryType::tq2_0 ? formats::pack_tq2_0(q.codes.data(), q.rows, q.cols)
                                                 : formats::pack_tq1_0(q.codes.data(), q.rows, q.cols));
      add(gguf_block_name(l, q.gguf_stem, "weight"), type == TernaryType::tq2_0 ? GgmlType::TQ2_0 : GgmlType::TQ1_0,
          {q.cols, q.rows}, blobs.back().data(), blobs.back().size());
      floats.push_back({q.scale});
      add(gguf_block_name(l, q.gguf_stem, "scale"), GgmlType::F32, {1}, floats.back().data(), 4);
      sum.ternary_weights += q.rows * q.cols;
      sum.ternary_bytes += blobs.back().size();
      sum.parameters += q.rows * q.cols;
    }
  }
  w.set(key::kSizeLabel, size_label(sum.parameters));
  w.write(path);
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) sum.file_bytes = static_cast<uint64_t>(st.st_size);
  sum.bf16_bytes = static_cast<uint64_t>(sum.parameters) * 2;
  return sum;
}

}  // namespace bitnet::exporting
