// The key table of RunConfig (dotted key -> field) and the "did you mean" suggestion for
// unknown keys. Everything that walks the config (parser, printer, validator) uses this table,
// so a new field is added here once.
#include <algorithm>
#include <utility>

#include "trainer/config_detail.h"

namespace bitnet::config_detail {

const std::vector<std::string>& section_names() {
  static const std::vector<std::string> names = {"model", "quant",       "tokenizer",  "data", "train",
                                                 "optim", "schedule",    "checkpoint", "eval", "sample",
                                                 "log",   "distributed", "lora"};
  return names;
}

std::vector<Field> bind_fields(RunConfig& c) {
  return {
      {"name", &c.name},
      {"resume", &c.resume},
      {"init_from", &c.init_from},
      {"init_from_ignore", &c.init_from_ignore},
      {"model.vocab_size", &c.model.vocab_size},
      {"model.hidden_size", &c.model.hidden_size},
      {"model.num_layers", &c.model.num_layers},
      {"model.num_heads", &c.model.num_heads},
      {"model.num_kv_heads", &c.model.num_kv_heads},
      {"model.intermediate_size", &c.model.intermediate_size},
      {"model.max_seq_len", &c.model.max_seq_len},
      {"model.rope_theta", &c.model.rope_theta},
      {"model.rms_norm_eps", &c.model.rms_norm_eps},
      {"model.tie_embeddings", &c.model.tie_embeddings},
      {"model.hidden_act", mode_ref(&c.model.hidden_act)},
      {"model.init_std", &c.model.init_std},
      {"quant.mode", mode_ref(&c.quant.mode)},
      {"quant.lambda_warmup_steps", &c.quant.lambda_warmup_steps},
      {"quant.start_fraction", &c.quant.start_fraction},
      {"tokenizer.type", mode_ref(&c.tokenizer.type)},
      {"tokenizer.path", &c.tokenizer.path},
      {"data.format", mode_ref(&c.data.format)},
      {"data.paths", &c.data.paths},
      {"data.sources", &c.data.sources},
      {"data.separator_line", &c.data.separator_line},
      {"data.seq_len", &c.data.seq_len},
      {"data.val_fraction", &c.data.val_fraction},
      {"data.chat_template", mode_ref(&c.data.chat_template)},
      {"data.bad_lines", mode_ref(&c.data.bad_lines)},
      {"data.max_line_bytes", &c.data.max_line_bytes},
      {"data.sft_layout", mode_ref(&c.data.sft_layout)},
      {"data.hdf5_dataset", &c.data.hdf5_dataset},
      {"data.hdf5_offsets", &c.data.hdf5_offsets},
      {"train.steps", &c.train.steps},
      {"train.stop_after", &c.train.stop_after},
      {"train.micro_batch", &c.train.micro_batch},
      {"train.grad_accum", &c.train.grad_accum},
      {"train.precision", mode_ref(&c.train.precision)},
      {"train.threads", &c.train.threads},
      {"train.seed", &c.train.seed},
      {"train.deterministic", &c.train.deterministic},
      {"train.device", device_mode_ref(&c.train.device)},
      {"train.nan_policy", mode_ref(&c.train.nan_policy)},
      {"train.max_nan_skips", &c.train.max_nan_skips},
      {"optim.lr", &c.optim.lr},
      {"optim.betas", &c.optim.betas},
      {"optim.eps", &c.optim.eps},
      {"optim.weight_decay", &c.optim.weight_decay},
      {"optim.grad_clip", &c.optim.grad_clip},
      {"schedule.type", mode_ref(&c.schedule.type)},
      {"schedule.warmup_steps", &c.schedule.warmup_steps},
      {"schedule.min_lr_ratio", &c.schedule.min_lr_ratio},
      {"schedule.switch_fraction", &c.schedule.switch_fraction},
      {"schedule.stage2_lr_ratio", &c.schedule.stage2_lr_ratio},
      {"checkpoint.every", &c.checkpoint.every},
      {"checkpoint.keep_last", &c.checkpoint.keep_last},
      {"eval.every", &c.eval.every},
      {"eval.batches", &c.eval.batches},
      {"sample.every", &c.sample.every},
      {"sample.prompts", &c.sample.prompts},
      {"sample.tokens", &c.sample.tokens},
      {"sample.temperature", &c.sample.temperature},
      {"sample.top_k", &c.sample.top_k},
      {"log.dir", &c.log.dir},
      {"log.every", &c.log.every},
      {"distributed.backend", mode_ref(&c.distributed.backend)},
      {"distributed.timeout_s", &c.distributed.timeout_s},
      {"lora.rank", &c.lora.rank},
      {"lora.alpha", &c.lora.alpha},
      {"lora.dropout", &c.lora.dropout},
      {"lora.target_modules", &c.lora.target_modules},
      {"lora.use_rslora", &c.lora.use_rslora},
      {"lora.adapter_from", &c.lora.adapter_from},
  };
}

std::optional<FieldRef> find_field(RunConfig& config, const std::string& key) {
  for (const Field& f : bind_fields(config)) {
    if (f.key == key) return f.ref;
  }
  return std::nullopt;
}

std::vector<SourceField> bind_source_fields(DataSourceConfig& s) {
  return {
      {"paths", &s.paths},
      {"format", mode_ref(&s.format)},
      {"weight", &s.weight},
      {"separator_line", &s.separator_line},
      {"chat_template", mode_ref(&s.chat_template)},
      {"hdf5_dataset", &s.hdf5_dataset},
      {"hdf5_offsets", &s.hdf5_offsets},
  };
}

std::string source_key(size_t index, const std::string& name) {
  const std::string item = "data.sources[" + std::to_string(index) + "]";
  return name.empty() ? item : item + "." + name;
}

const std::vector<FormatKey>& source_format_keys() {
  static const std::vector<FormatKey> keys = {
      {"separator_line", data::DataFormat::kText},
      {"chat_template", data::DataFormat::kJsonl},
      {"hdf5_dataset", data::DataFormat::kHdf5},
      {"hdf5_offsets", data::DataFormat::kHdf5},
  };
  return keys;
}

bool is_section(const std::string& name) {
  const auto& names = section_names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

size_t levenshtein(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + cost});
      diagonal = above;
    }
  }
  return row[b.size()];
}

namespace {

// Names other trainers use for our keys; edit distance alone would never connect them.
const std::vector<std::pair<std::string, std::string>>& aliases() {
  static const std::vector<std::pair<std::string, std::string>> table = {
      {"learning_rate", "lr"},
      {"batch_size", "micro_batch"},
      {"max_steps", "steps"},
      {"num_steps", "steps"},
      {"train_steps", "steps"},
      {"gradient_accumulation_steps", "grad_accum"},
      {"n_layer", "num_layers"},
      {"n_layers", "num_layers"},
      {"num_hidden_layers", "num_layers"},
      {"n_head", "num_heads"},
      {"n_heads", "num_heads"},
      {"num_attention_heads", "num_heads"},
      {"n_kv_heads", "num_kv_heads"},
      {"num_key_value_heads", "num_kv_heads"},
      {"d_model", "hidden_size"},
      {"n_embd", "hidden_size"},
      {"dim", "hidden_size"},
      {"ffn_dim", "intermediate_size"},
      {"hidden_dim", "intermediate_size"},
      {"block_size", "seq_len"},
      {"context_length", "max_seq_len"},
      {"max_position_embeddings", "max_seq_len"},
      {"warmup", "warmup_steps"},
      {"warmup_iters", "warmup_steps"},
      {"max_grad_norm", "grad_clip"},
      {"clip_grad", "grad_clip"},
      {"vocab", "vocab_size"},
      {"dtype", "precision"},
      {"wd", "weight_decay"},
      {"path", "paths"},
  };
  return table;
}

std::pair<std::string, std::string> split_key(const std::string& key) {
  const size_t dot = key.rfind('.');
  if (dot == std::string::npos) return {"", key};
  return {key.substr(0, dot), key.substr(dot + 1)};
}

// "learning_rate" -> "lr": the initials of the underscore-separated words.
std::string acronym(const std::string& name) {
  std::string out;
  bool word_start = true;
  for (char ch : name) {
    if (ch == '_') {
      word_start = true;
    } else if (word_start) {
      out += ch;
      word_start = false;
    }
  }
  return out;
}

bool is_prefix(const std::string& shorter, const std::string& longer) {
  return shorter.size() >= 3 && shorter.size() < longer.size() && longer.compare(0, shorter.size(), shorter) == 0;
}

// Smaller is closer. Edit distance, lowered by rules that catch the common slips: the right name
// in the wrong section, an abbreviation, a truncation, or another trainer's name for the key.
size_t distance(const std::string& unknown, const std::string& candidate) {
  const auto [u_section, u_leaf] = split_key(unknown);
  const auto [c_section, c_leaf] = split_key(candidate);
  const bool same_section = u_section == c_section;
  size_t score = levenshtein(unknown, candidate);
  if (u_leaf == c_leaf) score = std::min<size_t>(score, 1);
  for (const auto& [from, to] : aliases()) {
    if (u_leaf == from && c_leaf == to) score = std::min<size_t>(score, same_section ? 1 : 2);
  }
  if (same_section) {
    if (acronym(u_leaf) == c_leaf && u_leaf.find('_') != std::string::npos) {
      score = std::min<size_t>(score, 1);
    }
    if (is_prefix(c_leaf, u_leaf) || is_prefix(u_leaf, c_leaf)) {
      score = std::min<size_t>(score, 2);
    }
  }
  return score;
}

}  // namespace

std::string suggest_key(const std::string& unknown) {
  std::vector<std::string> candidates = config_keys();
  candidates.insert(candidates.end(), section_names().begin(), section_names().end());
  const std::string unknown_section = split_key(unknown).first;
  std::string best;
  size_t best_score = SIZE_MAX;
  bool best_same_section = false;
  for (const std::string& candidate : candidates) {
    const size_t score = distance(unknown, candidate);
    const bool same_section = split_key(candidate).first == unknown_section;
    // On a tie, a key in the section the user wrote wins ("data.path" -> "data.paths").
    if (score < best_score || (score == best_score && same_section && !best_same_section)) {
      best_score = score;
      best = candidate;
      best_same_section = same_section;
    }
  }
  // "Reasonably close": a few edits, scaled with the key's length, and never a total rewrite.
  const size_t limit = std::clamp<size_t>(unknown.size() / 4, 2, 4);
  if (best_score == 0 || best_score > limit || best_score >= unknown.size()) return "";
  return best;
}

std::string did_you_mean(const std::string& unknown) {
  const std::string key = suggest_key(unknown);
  return key.empty() ? "" : " (did you mean '" + key + "'?)";
}

}  // namespace bitnet::config_detail

namespace bitnet {

std::vector<std::string> config_keys() {
  RunConfig config;
  std::vector<std::string> keys;
  for (const auto& field : config_detail::bind_fields(config)) keys.push_back(field.key);
  return keys;
}

}  // namespace bitnet
