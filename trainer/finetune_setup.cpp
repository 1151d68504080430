// init_from and LoRA in a training run (see finetune_setup.h).
#include "trainer/finetune_setup.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "layers/tensor_io.h"
#include "trainer/pretrained.h"

namespace bitnet {
namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::string fmt_g(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

void check_adapter_matches(const LoraSpec& file, const LoraSpec& run, const std::string& dir) {
  std::string problems;
  auto differ = [&](const std::string& key, const std::string& ours, const std::string& theirs) {
    if (ours != theirs)
      problems += "\n  lora." + key + " is " + ours + " in the run config but " + theirs + " in " + dir +
                  "/adapter_config.json";
  };
  differ("rank", std::to_string(run.rank), std::to_string(file.rank));
  differ("alpha", fmt_g(run.alpha), fmt_g(file.alpha));
  // PEFT stores target_modules as a set (any order): compare them as sets.
  auto sorted = [](std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  if (sorted(run.target_modules) != sorted(file.target_modules)) {
    differ("target_modules", "[" + join(run.target_modules) + "]", "[" + join(file.target_modules) + "]");
  }
  differ("use_rslora", run.use_rslora ? "true" : "false", file.use_rslora ? "true" : "false");
  if (!problems.empty())
    throw LoraError("lora.adapter_from " + dir + ": the adapter was made with other LoRA settings:" + problems);
}

}  // namespace

LoraSpec lora_spec(const LoraConfig& c) {
  LoraSpec s;
  s.rank = c.rank;
  s.alpha = c.alpha;
  s.dropout = c.dropout;
  s.target_modules = c.target_modules;
  s.use_rslora = c.use_rslora;
  return s;
}

std::vector<std::string> prepare_finetune(BitNetLM& model, const RunConfig& config, bool resuming) {
  std::vector<std::string> lines;
  const bool lora = config.lora.rank > 0;
  if (!config.init_from.empty()) {
    if (resuming && !lora) {
      lines.push_back(
          "  init_from not applied: this run resumes, so its weights, optimizer state, schedule and data "
          "position come from the checkpoint (init_from only starts new runs)");
    } else {
      const PretrainedSource source = inspect_pretrained(config.init_from);
      const PretrainedLoad r = load_pretrained(model, source, config.init_from_ignore);
      std::string line = "  init_from " + source.dir + " (" + source.kind + ", " +
                         std::to_string(source.weight_files.size()) + " file(s)): " + std::to_string(r.loaded) +
                         " tensors loaded" +
                         (resuming ? " as the frozen LoRA base; the adapters come from the checkpoint"
                                   : "; new run: fresh optimizer, schedule from step 0");
      lines.push_back(line);
      if (!r.initialised.empty()) {
        lines.push_back("  " + std::to_string(r.initialised.size()) + " sub-norm weights start at 1 (" + source.kind +
                        " models have none); quant.lambda_warmup_steps=" +
                        std::to_string(config.quant.lambda_warmup_steps) + " ramps quantization in");
      }
      if (r.unpacked > 0) {
        lines.push_back(
            "  " + std::to_string(r.unpacked) +
            " projections were packed ternary weights: the run starts from "
            "already-ternary weights (latent = codes x weight_scale). The training quantizer re-derives each "
            "scale as mean|W|, which for ternary weights is weight_scale x the fraction of non-zero codes, so "
            "the codes are kept but the first steps see rescaled projections; start from the full-precision "
            "master weights when you have them");
      }
      for (const auto& name : r.ignored) lines.push_back("  init_from_ignore: " + name);
    }
  }
  if (lora) {
    const LoraSpec spec = lora_spec(config.lora);
    const int64_t layers = apply_lora(model, spec, static_cast<uint64_t>(config.train.seed) ^ 0x10a4ull);
    int64_t trainable = 0, total = 0;
    for (const auto& p : model->parameters()) {
      total += p.numel();
      if (p.requires_grad()) trainable += p.numel();
    }
    lines.push_back("  LoRA      r=" + std::to_string(spec.rank) + ", alpha " + fmt_g(spec.alpha) + ", scale " +
                    fmt_g(lora_scale(spec)) + (spec.use_rslora ? " (rsLoRA)" : "") + ", dropout " +
                    fmt_g(spec.dropout) + " on " + std::to_string(layers) + " projections [" +
                    join(spec.target_modules) + "]; trainable " + std::to_string(trainable) + " of " +
                    std::to_string(total) + " parameters (" + fmt_g(100.0 * double(trainable) / double(total)) +
                    "%), base frozen");
    if (!config.lora.adapter_from.empty()) {
      if (resuming) {
        lines.push_back("  lora.adapter_from not applied: this run resumes, so the adapters come from the checkpoint");
      } else {
        PeftAdapter a = read_peft_adapter(config.lora.adapter_from);
        check_adapter_matches(a.spec, spec, config.lora.adapter_from);
        load_lora_parameters(model, a.tensors);
        lines.push_back("  adapters loaded from " + config.lora.adapter_from);
      }
    }
  }
  return lines;
}

std::vector<torch::Tensor> trainable_parameters(BitNetLM& model) {
  std::vector<torch::Tensor> out;
  for (const auto& p : model->parameters()) {
    if (p.requires_grad()) out.push_back(p);
  }
  return out;
}

std::vector<std::pair<std::string, torch::Tensor>> checkpoint_tensors(BitNetLM& model, const RunConfig& config) {
  if (config.lora.rank > 0) return lora_parameters(model);
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& item : model->named_parameters()) out.emplace_back(item.key(), item.value());
  return out;
}

void load_checkpoint_tensors(BitNetLM& model, const RunConfig& config,
                             const std::map<std::string, torch::Tensor>& tensors) {
  if (config.lora.rank > 0) {
    load_lora_parameters(model, tensors);
  } else {
    load_parameters(*model, tensors);
  }
}

int64_t peak_rss_bytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) {
      std::istringstream s(line.substr(6));
      int64_t kib = 0;
      s >> kib;
      return kib * 1024;
    }
  }
  return 0;
}

}  // namespace bitnet
