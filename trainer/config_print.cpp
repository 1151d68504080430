// Prints a RunConfig as YAML (every key, resolved) and hashes that text. The output is what a run
// directory keeps as config.yaml and what `bitnet config show` prints; parse_config reads it back
// to an identical RunConfig.
#include <cstdio>

#include <xxhash.h>

#include "trainer/config_detail.h"

namespace bitnet {

namespace config_detail {

namespace {

// One data.sources item as a YAML flow map of the keys it sets, in table order.
std::string format_source(DataSourceConfig source) {
  std::string out;
  for (const SourceField& field : bind_source_fields(source)) {
    std::string value;
    if (auto* p = std::get_if<std::optional<std::string>*>(&field.ref)) {
      if (!**p) continue;  // unset: the data.* value applies
      value = quote_string(***p);
    } else if (auto* p = std::get_if<std::vector<std::string>*>(&field.ref)) {
      value = format_value(*p);
    } else if (auto* p = std::get_if<ModeRef>(&field.ref)) {
      if (!p->is_set()) continue;
      value = quote_string(p->name());
    } else {
      value = format_double(*std::get<double*>(field.ref));
    }
    out += (out.empty() ? "{" : ", ") + field.name + ": " + value;
  }
  return out + "}";
}

}  // namespace

std::string format_value(const FieldRef& field) {
  if (auto* p = std::get_if<int64_t*>(&field)) return std::to_string(**p);
  if (auto* p = std::get_if<double*>(&field)) return format_double(**p);
  if (auto* p = std::get_if<bool*>(&field)) return **p ? "true" : "false";
  if (auto* p = std::get_if<std::string*>(&field)) return quote_string(**p);
  if (auto* p = std::get_if<ModeRef>(&field)) return quote_string(p->name());
  std::string out = "[";
  if (auto* p = std::get_if<std::vector<std::string>*>(&field)) {
    for (size_t i = 0; i < (*p)->size(); ++i) out += (i ? ", " : "") + quote_string((**p)[i]);
  } else if (auto* p = std::get_if<std::vector<double>*>(&field)) {
    for (size_t i = 0; i < (*p)->size(); ++i) out += (i ? ", " : "") + format_double((**p)[i]);
  } else if (auto* p = std::get_if<std::vector<DataSourceConfig>*>(&field)) {
    for (size_t i = 0; i < (*p)->size(); ++i) out += (i ? ", " : "") + format_source((**p)[i]);
  }
  return out + "]";
}

}  // namespace config_detail

namespace {

const char* section_comment(const std::string& section) {
  if (section == "model") return "model shape and numerics";
  if (section == "quant") return "weight quantization (ternary BitLinear or full precision)";
  if (section == "tokenizer") return "tokenizer";
  if (section == "data") return "training text and how it is cut into sequences";
  if (section == "train") return "steps, batch, precision, threads, seed";
  if (section == "optim") return "AdamW";
  if (section == "schedule") return "learning-rate schedule";
  if (section == "checkpoint") return "checkpoints";
  if (section == "eval") return "validation loss";
  if (section == "sample") return "sample text during training";
  if (section == "log") return "logging and the run directory";
  if (section == "distributed") return "multi-process training";
  if (section == "lora") return "LoRA adapters on a frozen base (rank 0 = off)";
  return "";
}

}  // namespace

std::string config_to_yaml(const RunConfig& config) {
  RunConfig copy = config;  // bind_fields needs a mutable config; printing does not change it
  std::string out = "# bitnet-train run config: every key, resolved\n";
  std::string current_section;
  for (const auto& field : config_detail::bind_fields(copy)) {
    const size_t dot = field.key.find('.');
    const std::string section = dot == std::string::npos ? "" : field.key.substr(0, dot);
    const std::string name = dot == std::string::npos ? field.key : field.key.substr(dot + 1);
    if (section != current_section) {
      out += "\n# " + std::string(section_comment(section)) + "\n" + section + ":\n";
      current_section = section;
    }
    out += (section.empty() ? "" : "  ") + name + ": " + config_detail::format_value(field.ref) + "\n";
  }
  return out;
}

std::string config_hash(const RunConfig& config) {
  const std::string text = config_to_yaml(config);
  const unsigned long long hash = XXH64(text.data(), text.size(), 0);
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", hash);
  return hex;
}

}  // namespace bitnet
