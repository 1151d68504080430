// Loading a checkpoint as a runnable model (see checkpoint_model.h).
#include "checkpoint/checkpoint_model.h"

#include <filesystem>
#include <stdexcept>

#include "checkpoint/checkpoint.h"
#include "checkpoint/model_options.h"
#include "data/byte_tokenizer.h"
#include "layers/tensor_io.h"

namespace bitnet {

namespace fs = std::filesystem;

std::string resolve_checkpoint_dir(const std::string& source) {
  std::error_code ec;
  if (fs::exists(fs::path(source) / "manifest.json", ec)) return source;
  if (fs::exists(fs::path(source) / "ckpt" / "latest", ec)) {
    return fs::canonical(fs::path(source) / "ckpt" / "latest").string();
  }
  throw std::runtime_error(source +
                           ": neither a checkpoint directory (manifest.json) nor a run directory (ckpt/latest)");
}

std::unique_ptr<data::Tokenizer> checkpoint_tokenizer(const std::string& dir, const RunConfig& config) {
  std::error_code ec;
  const bool own_copy =
      config.tokenizer.type == data::TokenizerType::kBpe && fs::exists(fs::path(dir) / "tokenizer.json", ec);
  return data::make_tokenizer(config.tokenizer.type, own_copy ? dir : config.tokenizer.path);
}

CheckpointModel load_checkpoint_model(const std::string& source) {
  CheckpointModel out;
  out.dir = resolve_checkpoint_dir(source);
  CheckpointContents ckpt = load_checkpoint(out.dir);
  out.config = parse_config(ckpt.config_yaml, out.dir + "/config.yaml");
  if (out.config.lora.rank > 0) {
    throw std::runtime_error(out.dir +
                             " is a LoRA checkpoint (adapters only, lora.rank=" + std::to_string(out.config.lora.rank) +
                             "): merge the adapters first with "
                             "`bitnet lora merge " +
                             out.dir + " --out DIR`, then use DIR/latest");
  }
  out.tokenizer = checkpoint_tokenizer(out.dir, out.config);
  const int64_t vocab = out.config.model.vocab_size > 0 ? out.config.model.vocab_size : out.tokenizer->vocab_size();
  BitNetOptions options = model_options(out.config, vocab);
  out.model = BitNetLM(options);
  for (auto& [name, t] : ckpt.model) t = t.to(torch::kFloat).contiguous();
  try {
    load_parameters(*out.model, ckpt.model);
  } catch (const std::exception& e) {
    throw std::runtime_error(out.dir + ": " + e.what());
  }
  out.model->eval();
  return out;
}

}  // namespace bitnet
