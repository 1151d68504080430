// QuantizedModel -> Hugging Face packed BitNet directory: model.safetensors + config.json.
// Projections: "<name>.weight" uint8 [out/4, in] (formats/ternary_pack.h, pack_hf_bitnet) and
// "<name>.weight_scale" F32 [1] holding 1 / s_w, which a reader MULTIPLIES (the 2B4T
// "autobitlinear" / "offline" convention); config.json's quantization_config says so. Embedding
// and untied head in BF16 (like the 2B4T checkpoint), norms in F32. A BPE checkpoint's
// tokenizer.json and tokenizer_config.json go beside them (the latter with the run's chat
// template), so AutoTokenizer reads the directory too.
#include <sys/stat.h>

#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "data/chat_template.h"
#include "export/errors.h"
#include "export/export_files.h"
#include "formats/atomic_file.h"
#include "formats/dtype.h"
#include "formats/safetensors.h"
#include "formats/ternary_pack.h"

namespace bitnet::exporting {
namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ExportError("cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The checkpoint's tokenizer files for transformers' AutoTokenizer; tokenizer_config.json gains
// the run's chat template and the special tokens by name. Returns the files written.
std::vector<std::string> write_hf_tokenizer(const QuantizedModel& m, const std::string& dir) {
  const std::string source = m.checkpoint_dir + "/tokenizer.json";
  if (m.tokenizer->type() != data::TokenizerType::kBpe || !std::filesystem::exists(source)) return {};
  formats::write_file_atomic(dir + "/tokenizer.json", read_text(source));
  nlohmann::json config = nlohmann::json::object();
  const std::string config_path = m.checkpoint_dir + "/tokenizer_config.json";
  if (std::filesystem::exists(config_path)) {
    try {
      config = nlohmann::json::parse(read_text(config_path));
    } catch (const nlohmann::json::exception& e) {
      throw ExportError(config_path + ": not valid JSON (" + e.what() + ")");
    }
  }
  if (!config.contains("tokenizer_class")) config["tokenizer_class"] = "PreTrainedTokenizerFast";
  config["bos_token"] = m.tokenizer->token_text(m.tokenizer->bos_id());
  config["eos_token"] = m.tokenizer->token_text(m.tokenizer->eos_id());
  config["chat_template"] = data::chat_template_jinja(m.config.data.chat_template);
  formats::write_file_atomic(dir + "/tokenizer_config.json", config.dump(2) + "\n");
  return {"/tokenizer.json", "/tokenizer_config.json"};
}

}  // namespace

ExportSummary write_hf_packed(const QuantizedModel& m, const std::string& dir) {
  const BitNetOptions& o = m.options;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw ExportError("cannot create directory " + dir + ": " + ec.message());
  ExportSummary sum;
  sum.path = dir;
  sum.architecture = "BitNetForCausalLM";
  std::vector<formats::TensorToWrite> tensors;
  std::deque<std::vector<uint8_t>> blobs;
  auto put = [&](const std::string& name, formats::DType dt, std::vector<int64_t> shape, std::vector<uint8_t> bytes) {
    blobs.push_back(std::move(bytes));
    tensors.push_back({name, dt, std::move(shape), blobs.back().data(), blobs.back().size()});
    ++sum.tensors;
  };
  for (const auto& [name, t] : m.latent) {
    bool is_proj = false;
    for (const auto& q : m.projections) is_proj = is_proj || q.hf_name == name;
    if (is_proj) continue;
    const float* x = t.data_ptr<float>();
    const int64_t n = t.numel();
    std::vector<int64_t> shape(t.sizes().begin(), t.sizes().end());
    sum.parameters += n;
    if (t.dim() == 2) {  // embedding / untied head: bf16
      std::vector<uint8_t> bytes(static_cast<size_t>(n) * 2);
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t b = formats::float_to_bf16(x[i]);
        std::memcpy(bytes.data() + 2 * i, &b, 2);
      }
      put(name, formats::DType::BF16, shape, std::move(bytes));
    } else {
      std::vector<uint8_t> bytes(static_cast<size_t>(n) * 4);
      std::memcpy(bytes.data(), x, bytes.size());
      put(name, formats::DType::F32, shape, std::move(bytes));
    }
  }
  for (const QuantizedProjection& q : m.projections) {
    std::vector<uint8_t> packed = formats::pack_hf_bitnet(q.codes.data(), q.rows, q.cols);
    sum.ternary_weights += q.rows * q.cols;
    sum.ternary_bytes += packed.size();
    sum.parameters += q.rows * q.cols;
    put(q.hf_name, formats::DType::U8, {q.rows / 4, q.cols}, std::move(packed));
    std::vector<uint8_t> scale(4);
    std::memcpy(scale.data(), &q.scale, 4);
    put(q.hf_name + "_scale", formats::DType::F32, {1}, std::move(scale));
  }
  const std::string st_path = dir + "/model.safetensors";
  formats::write_safetensors(st_path, tensors, {{"format", "pt"}});

  nlohmann::json cfg = {
      {"architectures", {"BitNetForCausalLM"}},
      {"model_type", "bitnet"},
      {"vocab_size", o.vocab_size},
      {"hidden_size", o.hidden_size},
      {"intermediate_size", o.intermediate_size},
      {"num_hidden_layers", o.num_layers},
      {"num_attention_heads", o.num_heads},
      {"num_key_value_heads", o.num_kv_heads},
      {"max_position_embeddings", o.max_seq_len},
      {"rms_norm_eps", o.rms_norm_eps},
      {"rope_theta", o.rope_theta},
      {"hidden_act", enum_name(o.activation)},
      {"tie_word_embeddings", o.tie_embeddings},
      {"bos_token_id", m.tokenizer->bos_id()},
      {"eos_token_id", m.tokenizer->eos_id()},
      {"pad_token_id", m.tokenizer->pad_id()},
      {"torch_dtype", "bfloat16"},
      {"bitnet_train_tokenizer", {{"type", enum_name(m.tokenizer->type())}}},
      {"quantization_config",
       {{"quant_method", "bitnet"},
        {"linear_class", "autobitlinear"},
        {"quantization_mode", "offline"},
        {"modules_to_not_convert", {"lm_head"}},
        {"weight_scale_convention", "multiply"},
        {"weight_scale_meaning",
         "weight_scale = 1/s_w with s_w = 1/max(mean(|W|), 1e-5); dequantized weight = code * weight_scale"},
        {"activation_quantization", "per-token absmax int8: s_x = 127/max(max|x|, 1e-5), round half to even"},
        {"packing", "uint8 [out/4, in]; bits 2i..2i+1 of packed[r, c] hold code(W[i*out/4 + r, c]) + 1"}}}};
  formats::write_file_atomic(dir + "/config.json", cfg.dump(2) + "\n");
  std::vector<std::string> files = {"/model.safetensors", "/config.json"};
  for (const std::string& f : write_hf_tokenizer(m, dir)) files.push_back(f);
  for (const std::string& f : files) {
    struct stat st {};
    if (::stat((dir + f).c_str(), &st) == 0) sum.file_bytes += static_cast<uint64_t>(st.st_size);
  }
  sum.bf16_bytes = static_cast<uint64_t>(sum.parameters) * 2;
  return sum;
}

}  // namespace bitnet::exporting
