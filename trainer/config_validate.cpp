// Range, allowed-value and cross-field checks of a RunConfig. They run after the file and all
// overrides are applied, so they judge the values the run will actually use, and each message
// points at where the offending value came from (file:line:column, an override, or the default).
#include <cmath>
#include <initializer_list>

#include "formats/model_names.h"
#include "trainer/config_detail.h"

namespace bitnet::config_detail {

namespace {

class Checker {
 public:
  Checker(const RunConfig& config, const Origins& origins, const std::string& source)
      : config_(config), origins_(origins), source_(source) {}

  // Where `key` got its value: the file position or override, else the config as a whole.
  std::string where(const std::string& key) const {
    const auto it = origins_.find(key);
    return it == origins_.end() ? source_ : it->second;
  }

  // "'optim.lr' (0.001)", the value as the config would print it.
  std::string show(const std::string& key) const {
    RunConfig copy = config_;
    const auto field = find_field(copy, key);
    return "'" + key + "' (" + (field ? format_value(*field) : "?") + ")";
  }

  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    throw ConfigError(where(key) + ": key '" + key + "': " + what);
  }

  // A rule between keys: the message names them all; the position is that of the first key
  // the user set (defaults have none).
  void require(bool ok, std::initializer_list<const char*> keys, const std::string& what) const {
    if (ok) return;
    std::string location = source_;
    for (const char* key : keys) {
      if (origins_.count(key)) {
        location = origins_.at(key);
        break;
      }
    }
    throw ConfigError(location + ": " + what);
  }

  void int_range(const std::string& key, int64_t value, int64_t lo, int64_t hi) const {
    if (value >= lo && value <= hi) return;
    std::string range = hi == INT64_MAX ? "must be >= " + std::to_string(lo)
                                        : "must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
    fail(key, std::to_string(value) + " is out of range (" + range + ")");
  }
  void at_least(const std::string& key, int64_t value, int64_t lo) const { int_range(key, value, lo, INT64_MAX); }

  // A double in an interval; `lo_open`/`hi_open` exclude the ends, hi = INFINITY for none.
  void real_range(const std::string& key, double value, double lo, bool lo_open, double hi, bool hi_open) const {
    if (!std::isfinite(value)) fail(key, format_double(value) + " is not a finite number");
    const bool above = lo_open ? value > lo : value >= lo;
    const bool below = std::isinf(hi) || (hi_open ? value < hi : value <= hi);
    if (above && below) return;
    std::string range;
    if (std::isinf(hi)) {
      range = std::string(lo_open ? "must be > " : "must be >= ") + format_number(lo);
    } else {
      range = std::string("must be in ") + (lo_open ? "(" : "[") + format_number(lo) + ", " + format_number(hi) +
              (hi_open ? ")" : "]");
    }
    fail(key, format_double(value) + " is out of range (" + range + ")");
  }

  void one_of(const std::string& key, const std::string& value, const std::vector<const char*>& allowed) const {
    std::string list;
    for (const char* option : allowed) {
      if (value == option) return;
      list += (list.empty() ? "" : ", ") + std::string(option);
    }
    fail(key, quote_string(value) + " is not allowed (choose one of: " + list + ")");
  }

  void not_empty(const std::string& key, const std::string& value, const std::string& what) const {
    if (value.empty()) fail(key, "must not be empty (" + what + ")");
  }

 private:
  // Interval ends read better as "0" and "0.5" than as "0.0".
  static std::string format_number(double value) {
    std::string text = format_double(value);
    if (text.size() > 2 && text.compare(text.size() - 2, 2, ".0") == 0) text.resize(text.size() - 2);
    return text;
  }

  const RunConfig& config_;
  const Origins& origins_;
  const std::string& source_;
};

constexpr double kInf = INFINITY;
constexpr int64_t kMaxSize = int64_t{1} << 20;       // generous caps that still stop absurd allocations
constexpr int64_t kMaxLineBytes = int64_t{1} << 30;  // one JSONL line is held in memory whole

void check_model(const RunConfig& c, const Checker& k) {
  const ModelConfig& m = c.model;
  k.int_range("model.vocab_size", m.vocab_size, 0, int64_t{1} << 24);
  k.int_range("model.hidden_size", m.hidden_size, 1, 65536);
  k.int_range("model.num_layers", m.num_layers, 1, 1024);
  k.int_range("model.num_heads", m.num_heads, 1, 1024);
  k.int_range("model.num_kv_heads", m.num_kv_heads, 1, 1024);
  k.int_range("model.intermediate_size", m.intermediate_size, 1, kMaxSize);
  k.int_range("model.max_seq_len", m.max_seq_len, 2, kMaxSize);
  k.real_range("model.rope_theta", m.rope_theta, 0, true, kInf, false);
  k.real_range("model.rms_norm_eps", m.rms_norm_eps, 0, true, 1, true);
  k.real_range("model.init_std", m.init_std, 0, true, 1, false);
  k.require(m.hidden_size % m.num_heads == 0, {"model.hidden_size", "model.num_heads"},
            k.show("model.hidden_size") + " must be a multiple of " + k.show("model.num_heads"));
  const int64_t head_dim = m.hidden_size / m.num_heads;
  k.require(head_dim % 2 == 0, {"model.hidden_size", "model.num_heads"},
            "the head size " + k.show("model.hidden_size") + " / " + k.show("model.num_heads") + " = " +
                std::to_string(head_dim) + " must be even (RoPE rotates pairs)");
  k.require(m.num_heads % m.num_kv_heads == 0, {"model.num_kv_heads", "model.num_heads"},
            k.show("model.num_heads") + " must be a multiple of " + k.show("model.num_kv_heads"));
}

void check_paths(const Checker& k, const std::string& key, const std::vector<std::string>& paths) {
  if (paths.empty()) k.fail(key, "must list at least one file or glob");
  for (size_t i = 0; i < paths.size(); ++i) {
    if (paths[i].empty()) k.fail(key, "item " + std::to_string(i + 1) + " is an empty path");
  }
}

void check_separator(const Checker& k, const std::string& key, const std::string& separator) {
  if (separator.find_first_of("\r\n") != std::string::npos) k.fail(key, "must be a single line (no line breaks)");
}

// Whether an optional key of a source is set.
bool is_set(DataSourceConfig& source, const std::string& name) {
  for (const SourceField& field : bind_source_fields(source)) {
    if (field.name != name) continue;
    if (const auto* value = std::get_if<std::optional<std::string>*>(&field.ref)) return (*value)->has_value();
    if (const auto* mode = std::get_if<ModeRef>(&field.ref)) return mode->is_set();
  }
  return false;
}

// data.sources: each source's own keys, and the per-format keys only where its format reads them.
void check_sources(const RunConfig& c, const Checker& k) {
  const DataConfig& d = c.data;
  k.require(d.paths.empty(), {"data.sources", "data.paths"},
            "'data.sources' and 'data.paths' are mutually exclusive: list each dataset's files under its "
            "source's 'paths' (to replace 'data.paths' by an override, also give data.paths=[])");
  for (size_t i = 0; i < d.sources.size(); ++i) {
    DataSourceConfig s = d.sources[i];
    const auto key = [i](const char* name) { return source_key(i, name); };
    check_paths(k, key("paths"), s.paths);
    k.real_range(key("weight"), s.weight, 0, true, kInf, false);
    if (s.separator_line) check_separator(k, key("separator_line"), *s.separator_line);
    const data::DataFormat format = s.format.value_or(d.format);
    for (const FormatKey& format_key : source_format_keys()) {
      if (format != format_key.format && is_set(s, format_key.name)) {
        k.fail(key(format_key.name), std::string("applies to format ") + enum_name(format_key.format) +
                                         " only; this source's format is " + enum_name(format));
      }
    }
    if (format == data::DataFormat::kHdf5 && s.hdf5_dataset.value_or(d.hdf5_dataset).empty()) {
      k.fail(key("hdf5_dataset"), "must not be empty for an hdf5 source (the token dataset's name)");
    }
  }
}

void check_data(const RunConfig& c, const Checker& k) {
  const DataConfig& d = c.data;
  k.at_least("quant.lambda_warmup_steps", c.quant.lambda_warmup_steps, 0);
  k.real_range("quant.start_fraction", c.quant.start_fraction, 0, false, 1, true);
  k.require(c.quant.start_fraction == 0 || c.quant.mode == QuantMode::kTernary, {"quant.start_fraction", "quant.mode"},
            k.show("quant.start_fraction") + " needs 'quant.mode' \"ternary\" (there is nothing to switch to)");
  k.require(c.tokenizer.type != data::TokenizerType::kBpe || !c.tokenizer.path.empty(),
            {"tokenizer.type", "tokenizer.path"},
            "'tokenizer.type' \"bpe\" needs 'tokenizer.path' (the tokenizer.json file)");
  k.int_range("data.max_line_bytes", d.max_line_bytes, 1, kMaxLineBytes);
  k.require(d.format != data::DataFormat::kHdf5 || !d.hdf5_dataset.empty(), {"data.format", "data.hdf5_dataset"},
            "'data.format' \"hdf5\" needs 'data.hdf5_dataset' (the token dataset's name)");
  if (d.sources.empty()) {
    check_paths(k, "data.paths", d.paths);
  } else {
    check_sources(c, k);
  }
  check_separator(k, "data.separator_line", d.separator_line);
  k.int_range("data.seq_len", d.seq_len, 2, kMaxSize);
  k.require(d.seq_len <= c.model.max_seq_len, {"data.seq_len", "model.max_seq_len"},
            k.show("data.seq_len") + " must be <= " + k.show("model.max_seq_len"));
  k.real_range("data.val_fraction", d.val_fraction, 0, false, 0.5, false);
}

void check_train(const RunConfig& c, const Checker& k) {
  const TrainConfig& t = c.train;
  k.at_least("train.steps", t.steps, 1);
  k.at_least("train.stop_after", t.stop_after, 0);
  k.require(t.stop_after <= t.steps, {"train.stop_after", "train.steps"},
            k.show("train.stop_after") + " must be <= " + k.show("train.steps"));
  k.int_range("train.micro_batch", t.micro_batch, 1, kMaxSize);
  k.int_range("train.grad_accum", t.grad_accum, 1, kMaxSize);
  k.int_range("train.threads", t.threads, 0, 4096);
  k.at_least("train.seed", t.seed, 0);
  k.at_least("train.max_nan_skips", t.max_nan_skips, 0);
  k.require(c.quant.lambda_warmup_steps <= t.steps, {"quant.lambda_warmup_steps", "train.steps"},
            k.show("quant.lambda_warmup_steps") + " must be <= " + k.show("train.steps"));
  const auto fp_steps = static_cast<int64_t>(c.quant.start_fraction * double(t.steps));
  k.require(c.quant.lambda_warmup_steps <= t.steps - fp_steps, {"quant.lambda_warmup_steps", "quant.start_fraction"},
            k.show("quant.lambda_warmup_steps") + " must fit in the " + std::to_string(t.steps - fp_steps) +
                " steps left after " + k.show("quant.start_fraction") + " of " + k.show("train.steps"));
}

void check_optim(const RunConfig& c, const Checker& k) {
  const OptimConfig& o = c.optim;
  k.real_range("optim.lr", o.lr, 0, true, kInf, false);
  if (o.betas.size() != 2) {
    k.fail("optim.betas", "expected exactly 2 numbers [beta1, beta2], found " + std::to_string(o.betas.size()));
  }
  for (size_t i = 0; i < 2; ++i) {
    const double beta = o.betas[i];
    if (!(beta > 0 && beta < 1)) {
      k.fail("optim.betas",
             "item " + std::to_string(i + 1) + " is " + format_double(beta) + ", out of range (must be in (0, 1))");
    }
  }
  k.real_range("optim.eps", o.eps, 0, true, kInf, false);
  k.real_range("optim.weight_decay", o.weight_decay, 0, false, kInf, false);
  k.real_range("optim.grad_clip", o.grad_clip, 0, false, kInf, false);

  const ScheduleConfig& s = c.schedule;
  k.at_least("schedule.warmup_steps", s.warmup_steps, 0);
  k.require(s.warmup_steps <= c.train.steps, {"schedule.warmup_steps", "train.steps"},
            k.show("schedule.warmup_steps") + " must be <= " + k.show("train.steps"));
  k.real_range("schedule.min_lr_ratio", s.min_lr_ratio, 0, false, 1, false);
  k.real_range("schedule.switch_fraction", s.switch_fraction, 0, true, 1, true);
  k.real_range("schedule.stage2_lr_ratio", s.stage2_lr_ratio, 0, true, 1, false);
  // Stage 2 decays from stage2_lr_ratio down to min_lr_ratio; the other way round it would rise.
  k.require(s.type != ScheduleType::kTwoStage || s.min_lr_ratio <= s.stage2_lr_ratio,
            {"schedule.min_lr_ratio", "schedule.stage2_lr_ratio"},
            k.show("schedule.min_lr_ratio") + " must be <= " + k.show("schedule.stage2_lr_ratio") +
                " for a two_stage schedule");
}

void check_outputs(const RunConfig& c, const Checker& k) {
  k.not_empty("name", c.name, "it names the run directory");
  if (c.name.find('/') != std::string::npos || c.name == "." || c.name == "..") {
    k.fail("name", quote_string(c.name) + " must be a plain directory name (no '/', not . or ..)");
  }
  k.at_least("checkpoint.every", c.checkpoint.every, 0);
  k.at_least("checkpoint.keep_last", c.checkpoint.keep_last, 1);
  k.at_least("eval.every", c.eval.every, 0);
  k.at_least("eval.batches", c.eval.batches, 1);
  k.at_least("sample.every", c.sample.every, 0);
  k.require(c.sample.every == 0 || !c.sample.prompts.empty(), {"sample.prompts", "sample.every"},
            "'sample.prompts' is empty but " + k.show("sample.every") + " asks for samples");
  k.int_range("sample.tokens", c.sample.tokens, 1, kMaxSize);
  k.real_range("sample.temperature", c.sample.temperature, 0, false, kInf, false);
  k.at_least("sample.top_k", c.sample.top_k, 0);
  k.not_empty("log.dir", c.log.dir, "runs are written under it");
  k.at_least("log.every", c.log.every, 1);
  k.require(!(c.distributed.backend == DistributedBackend::kNccl && c.train.device.kind == DeviceKind::kCpu),
            {"distributed.backend", "train.device"},
            "distributed.backend=nccl reduces CUDA tensors and needs a GPU device, but train.device is cpu "
            "(use distributed.backend=gloo or auto)");
  k.at_least("distributed.timeout_s", c.distributed.timeout_s, 1);
}

// LoRA targets: the projections' module names of the name table, or all-linear.
std::vector<const char*> lora_target_choices() {
  std::vector<const char*> out;
  for (const formats::ProjectionName& p : formats::projection_names()) out.push_back(p.module);
  out.push_back("all-linear");
  return out;
}

void check_finetune(const RunConfig& c, const Checker& k) {
  for (size_t i = 0; i < c.init_from_ignore.size(); ++i) {
    if (c.init_from_ignore[i].empty())
      k.fail("init_from_ignore", "item " + std::to_string(i + 1) + " is an empty pattern");
  }
  const LoraConfig& l = c.lora;
  k.int_range("lora.rank", l.rank, 0, 65536);
  k.real_range("lora.alpha", l.alpha, 0, true, kInf, false);
  k.real_range("lora.dropout", l.dropout, 0, false, 1, true);
  if (l.target_modules.empty()) k.fail("lora.target_modules", "must list at least one projection (or all-linear)");
  for (const std::string& m : l.target_modules) {
    k.one_of("lora.target_modules", m, lora_target_choices());
    if (m == "all-linear" && l.target_modules.size() > 1) {
      k.fail("lora.target_modules", "all-linear already names every projection; list it alone");
    }
  }
  k.require(l.rank == 0 || !c.init_from.empty(), {"lora.rank", "init_from"},
            "LoRA (" + k.show("lora.rank") + ") trains adapters on a frozen pretrained base: set 'init_from' to it");
  k.require(l.adapter_from.empty() || l.rank > 0, {"lora.adapter_from", "lora.rank"},
            "'lora.adapter_from' needs LoRA on: set 'lora.rank' to the adapter's r");
}

}  // namespace

void validate(const RunConfig& config, const Origins& origins, const std::string& source) {
  const Checker checker(config, origins, source);
  check_model(config, checker);
  check_data(config, checker);
  check_train(config, checker);
  check_optim(config, checker);
  check_outputs(config, checker);
  check_finetune(config, checker);
}

}  // namespace bitnet::config_detail

namespace bitnet {

void validate_config(const RunConfig& config) {
  config_detail::validate(config, {}, "config");
}

}  // namespace bitnet
