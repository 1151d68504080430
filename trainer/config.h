// The run configuration of `bitnet train CONFIG.yaml [key.sub=value ...]`: typed structs with
// their defaults, and the functions that read YAML (plus overrides) into them, validate them and
// print the resolved result. Torch-free: built as its own library, bitnet_config.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "data/token_dataset.h"
#include "data/tokenizer.h"
#include "formats/enum_names.h"
#include "formats/model_names.h"
#include "optim/schedule.h"

namespace bitnet {

// The modes of a run. Each is parsed from its name once, when the config is read (the names are
// in the EnumNames tables after the namespace, or next to the enums of data/, formats/ and optim/);
// the code past the config switches on the enum.
enum class QuantMode { kTernary, kNone };      // quant.mode: ternary BitLinear, or the full-precision twin
enum class SftLayout { kPack, kPad };          // data.sft_layout: packed rows with per-document attention, or padded
enum class Precision { kAuto, kBf16, kFp32 };  // train.precision: auto = bf16 where it is native
enum class NanPolicy { kAbort, kSkip };        // train.nan_policy
enum class DistributedBackend { kAuto, kGloo, kNccl };  // distributed.backend: auto = NCCL on a GPU, Gloo on the CPU

// train.device: auto (a GPU when one is visible), cpu, cuda (the LOCAL_RANK-th GPU) or cuda:N.
enum class DeviceKind { kAuto, kCpu, kCuda };
struct DeviceSetting {
  DeviceKind kind = DeviceKind::kAuto;
  int index = -1;  // cuda:N; -1 = cuda without an index
  friend bool operator==(const DeviceSetting& a, const DeviceSetting& b) {
    return a.kind == b.kind && a.index == b.index;
  }
};
// "auto" | "cpu" | "cuda" | "cuda:N" (N up to 999); nullopt for anything else.
std::optional<DeviceSetting> parse_device_setting(const std::string& text);
std::string device_setting_name(const DeviceSetting& device);
std::string device_setting_names();  // "auto, cpu, cuda, cuda:N", for messages

struct ModelConfig {
  int64_t vocab_size = 0;  // 0 = take it from the tokenizer
  int64_t hidden_size = 256;
  int64_t num_layers = 4;
  int64_t num_heads = 4;
  int64_t num_kv_heads = 4;  // must divide num_heads
  int64_t intermediate_size = 768;
  int64_t max_seq_len = 2048;  // context length (RoPE positions, export metadata)
  double rope_theta = 10000.0;
  double rms_norm_eps = 1e-5;
  bool tie_embeddings = true;
  formats::HiddenAct hidden_act = formats::HiddenAct::relu2;
  double init_std = 0.02;
};

struct QuantConfig {
  QuantMode mode = QuantMode::kTernary;
  int64_t lambda_warmup_steps = 0;  // steps over which quantization ramps in (0 = fully on)
  double start_fraction = 0.0;      // leading fraction of train.steps trained in full precision
};

struct TokenizerConfig {
  data::TokenizerType type = data::TokenizerType::kByte;
  std::string path;  // tokenizer.json for bpe
};

// One dataset of a mixture (data.sources, docs/data.md "Mixtures"). An unset optional key takes
// the data.<key> value.
struct DataSourceConfig {
  std::vector<std::string> paths;  // files or globs; required, non-empty
  std::optional<data::DataFormat> format;
  double weight = 0;                                // required, > 0: share of the training tokens (normalized)
  std::optional<std::string> separator_line;        // text
  std::optional<data::ChatTemplate> chat_template;  // jsonl
  std::optional<std::string> hdf5_dataset;          // hdf5
  std::optional<std::string> hdf5_offsets;          // hdf5

  friend bool operator==(const DataSourceConfig& a, const DataSourceConfig& b) {
    return a.paths == b.paths && a.format == b.format && a.weight == b.weight && a.separator_line == b.separator_line &&
           a.chat_template == b.chat_template && a.hdf5_dataset == b.hdf5_dataset && a.hdf5_offsets == b.hdf5_offsets;
  }
};

struct DataConfig {
  data::DataFormat format = data::DataFormat::kText;
  std::vector<std::string> paths;         // files or globs; required unless `sources` is set
  std::vector<DataSourceConfig> sources;  // a weighted mixture instead of `paths`
  std::string separator_line = "%";       // a line equal to this ends a document; "" = blank lines
  int64_t seq_len = 128;
  double val_fraction = 0.02;                                       // [0, 0.5]
  data::ChatTemplate chat_template = data::ChatTemplate::kGeneric;  // jsonl messages
  data::BadLines bad_lines = data::BadLines::kFail;                 // jsonl
  int64_t max_line_bytes = int64_t{16} << 20;                       // jsonl: a longer line is a bad line (16 MiB)
  SftLayout sft_layout = SftLayout::kPack;                          // fine-tuning rows
  std::string hdf5_dataset = "input_ids";                           // hdf5: 1-D token or 2-D input_ids dataset
  std::string hdf5_offsets;                                         // hdf5: optional 1-D document offsets dataset
};

struct TrainConfig {
  int64_t steps = 100;
  int64_t stop_after = 0;  // stop (checkpoint, exit 0) once this step is done; 0 = run to `steps`
  int64_t micro_batch = 8;
  int64_t grad_accum = 1;
  Precision precision = Precision::kAuto;  // auto: bf16 where it is native (GPUs, CPUs with AVX512-BF16)
  int64_t threads = 0;                     // 0 = all cores
  int64_t seed = 1234;
  bool deterministic = true;
  DeviceSetting device;
  NanPolicy nan_policy = NanPolicy::kAbort;
  int64_t max_nan_skips = 10;
};

struct OptimConfig {
  double lr = 1.5e-3;
  std::vector<double> betas = {0.9, 0.95};
  double eps = 1e-8;
  double weight_decay = 0.1;
  double grad_clip = 1.0;  // max global gradient norm; 0 = no clipping
};

struct ScheduleConfig {
  ScheduleType type = ScheduleType::kTwoStage;
  int64_t warmup_steps = 0;
  double min_lr_ratio = 0.1;     // final LR as a fraction of the peak
  double switch_fraction = 0.5;  // two_stage: where stage 2 begins, fraction of train.steps, (0,1)
  double stage2_lr_ratio = 0.5;  // two_stage: stage-2 peak LR as a fraction of optim.lr, (0,1]
};

struct CheckpointConfig {
  int64_t every = 0;  // 0 = only at the end
  int64_t keep_last = 3;
};

struct EvalConfig {
  int64_t every = 50;  // 0 = only at the end
  int64_t batches = 8;
};

struct SampleConfig {
  int64_t every = 0;
  std::vector<std::string> prompts = {"The "};
  int64_t tokens = 64;
  double temperature = 0.8;
  int64_t top_k = 40;
};

struct LogConfig {
  std::string dir = "runs";
  int64_t every = 10;
};

struct DistributedConfig {
  DistributedBackend backend = DistributedBackend::kAuto;
  int64_t timeout_s = 300;
};

// LoRA (docs/finetuning.md): low-rank full-precision adapters added to the output of chosen
// BitLinear projections of a frozen base loaded with init_from. rank 0 = off (train every weight).
struct LoraConfig {
  int64_t rank = 0;
  double alpha = 16.0;   // scale = alpha / rank (alpha / sqrt(rank) with use_rslora)
  double dropout = 0.0;  // on the adapter's input, training only, [0, 1)
  std::vector<std::string> target_modules = {"q_proj", "v_proj"};  // projection names or [all-linear]
  bool use_rslora = false;
  std::string adapter_from;  // PEFT adapter directory to start from; "" = fresh adapters
};

struct RunConfig {
  std::string name = "run";                   // run directory is log.dir/name
  std::string resume;                         // "" | auto | path of a checkpoint directory
  std::string init_from;                      // pretrained weights directory (HF or our checkpoint); "" = none
  std::vector<std::string> init_from_ignore;  // tensor-name patterns ('*' wildcard) init_from neither needs nor loads
  ModelConfig model;
  QuantConfig quant;
  TokenizerConfig tokenizer;
  DataConfig data;
  TrainConfig train;
  OptimConfig optim;
  ScheduleConfig schedule;
  CheckpointConfig checkpoint;
  EvalConfig eval;
  SampleConfig sample;
  LogConfig log;
  DistributedConfig distributed;
  LoraConfig lora;
};

// Every problem with a config (file, YAML syntax, key, type, range, override) is one of these; the
// message names the place (file:line:column or the override) and the key.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Reads the YAML file at `path`, applies `overrides` ("key.sub=value", in order) and validates.
RunConfig load_config(const std::string& path, const std::vector<std::string>& overrides = {});

// Same, from text; `source_name` is the name used in messages (usually the file's path).
RunConfig parse_config(const std::string& yaml_text, const std::string& source_name,
                       const std::vector<std::string>& overrides = {});

// Checks ranges, allowed values and cross-field rules of a config built in code; throws
// ConfigError naming the keys involved. parse_config/load_config already do this.
void validate_config(const RunConfig& config);

// Every key, resolved, as YAML with commented section headers. parse_config of the result
// reproduces `config` exactly (doubles are printed in their shortest round-trip form).
std::string config_to_yaml(const RunConfig& config);

// Hex (16 lowercase digits) XXH64, seed 0, of config_to_yaml(config).
std::string config_hash(const RunConfig& config);

// Every valid dotted key, in the order config_to_yaml prints them, e.g. "optim.lr".
std::vector<std::string> config_keys();

}  // namespace bitnet

namespace bitnet {
template <>
struct EnumNames<QuantMode> {
  static constexpr EnumName<QuantMode> table[] = {{QuantMode::kTernary, "ternary"}, {QuantMode::kNone, "none"}};
};
template <>
struct EnumNames<SftLayout> {
  static constexpr EnumName<SftLayout> table[] = {{SftLayout::kPack, "pack"}, {SftLayout::kPad, "pad"}};
};
template <>
struct EnumNames<Precision> {
  static constexpr EnumName<Precision> table[] = {
      {Precision::kAuto, "auto"}, {Precision::kBf16, "bf16"}, {Precision::kFp32, "fp32"}};
};
template <>
struct EnumNames<NanPolicy> {
  static constexpr EnumName<NanPolicy> table[] = {{NanPolicy::kAbort, "abort"}, {NanPolicy::kSkip, "skip"}};
};
template <>
struct EnumNames<DistributedBackend> {
  static constexpr EnumName<DistributedBackend> table[] = {
      {DistributedBackend::kAuto, "auto"}, {DistributedBackend::kGloo, "gloo"}, {DistributedBackend::kNccl, "nccl"}};
};
template <>
struct EnumNames<DeviceKind> {
  static constexpr EnumName<DeviceKind> table[] = {
      {DeviceKind::kAuto, "auto"}, {DeviceKind::kCpu, "cpu"}, {DeviceKind::kCuda, "cuda"}};
};
}  // namespace bitnet
