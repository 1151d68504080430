// Errors about keys and values: unknown keys (with the nearest valid key), duplicate keys, and
// out-of-range, disallowed or inconsistent values, each naming where the value came from.
#include <gtest/gtest.h>

#include "tests/trainer/config_test_util.h"
#include "trainer/config.h"

namespace bitnet {
namespace {

using testing::config_error;
using testing::kMinimal;

TEST(ConfigUnknownKey, NamesPositionKeyAndNearestKey) {
  // optim.learning_rate sits on line 12, column 3.
  const std::string yaml =
      "# line 1\n"
      "name: x\n"
      "data:\n"
      "  paths: [a.txt]\n"
      "model:\n"
      "  hidden_size: 64\n"
      "  num_heads: 4\n"
      "train:\n"
      "  steps: 10\n"
      "\n"
      "optim:\n"
      "  learning_rate: 1e-3\n";
  EXPECT_EQ(config_error(yaml, {}, "configs/x.yaml"),
            "configs/x.yaml:12:3: unknown key 'optim.learning_rate' (did you mean 'optim.lr'?)");
}

TEST(ConfigUnknownKey, SuggestsTyposWrongSectionsAndTruncations) {
  const auto message = [](const std::string& extra) { return config_error(std::string(kMinimal) + extra); };
  EXPECT_EQ(message("model:\n  hiden_size: 8\n"),
            "x.yaml:4:3: unknown key 'model.hiden_size' (did you mean 'model.hidden_size'?)");
  EXPECT_EQ(message("tarin:\n  steps: 8\n"), "x.yaml:3:1: unknown key 'tarin' (did you mean 'train'?)");
  EXPECT_EQ(message("optimizer: {lr: 1}\n"), "x.yaml:3:1: unknown key 'optimizer' (did you mean 'optim'?)");
  EXPECT_EQ(message("train: {lr: 0.1}\n"), "x.yaml:3:9: unknown key 'train.lr' (did you mean 'optim.lr'?)");
  EXPECT_EQ(message("steps: 5\n"), "x.yaml:3:1: unknown key 'steps' (did you mean 'train.steps'?)");
  EXPECT_EQ(message("schedule: {warmup: 5}\n"),
            "x.yaml:3:12: unknown key 'schedule.warmup' (did you mean 'schedule.warmup_steps'?)");
  EXPECT_EQ(message("train: {batch_size: 5}\n"),
            "x.yaml:3:9: unknown key 'train.batch_size' (did you mean 'train.micro_batch'?)");
}

TEST(ConfigUnknownKey, NoSuggestionWhenNothingIsClose) {
  EXPECT_EQ(config_error(std::string(kMinimal) + "zzzzzzzz: 1\n"), "x.yaml:3:1: unknown key 'zzzzzzzz'");
  EXPECT_EQ(config_error(std::string(kMinimal) + "model: {frobnicate: 1}\n"),
            "x.yaml:3:9: unknown key 'model.frobnicate'");
  EXPECT_EQ(config_error(std::string(kMinimal) + "<<: {name: a}\n"), "x.yaml:3:1: unknown key '<<'");
}

TEST(ConfigUnknownKey, ControlCharactersAreShownEscaped) {
  EXPECT_EQ(config_error(std::string(kMinimal) + "\"zz\\tzz\": 1\n"), "x.yaml:3:1: unknown key 'zz\\x09zz'");
  EXPECT_EQ(config_error(std::string(kMinimal) + "train: {steps: \"1\\n\"}\n"),
            "x.yaml:3:16: key 'train.steps': expected an integer, found '1\\x0a'");
}

TEST(ConfigUnknownKey, NonScalarKeysAreRejected) {
  EXPECT_EQ(config_error(std::string(kMinimal) + "? [a, b]\n: 1\n"),
            "x.yaml:3:3: keys must be plain names, found a list used as a key");
}

TEST(ConfigDuplicateKey, ReportsBothPositions) {
  EXPECT_EQ(config_error("data:\n  paths: [a]\noptim:\n  lr: 0.1\n  eps: 1e-8\n  lr: 0.2\n"),
            "x.yaml:6:3: duplicate key 'optim.lr' (first defined at x.yaml:4:3)");
  EXPECT_EQ(config_error("train: {steps: 5}\ndata:\n  paths: [a]\ntrain: {seed: 1}\n"),
            "x.yaml:4:1: duplicate key 'train' (first defined at x.yaml:1:1)");
  EXPECT_EQ(config_error("data: {paths: [a], paths: [b]}\n"),
            "x.yaml:1:20: duplicate key 'data.paths' (first defined at x.yaml:1:8)");
}

struct RangeCase {
  const char* yaml;     // appended to the minimal config (lines 1-2) unless it has its own data:
  const char* message;  // the whole expected message
};

std::string with_data(const std::string& yaml) {
  return yaml.rfind("data:", 0) == 0 ? yaml : std::string(kMinimal) + yaml;
}

class ConfigRange : public ::testing::TestWithParam<RangeCase> {};

TEST_P(ConfigRange, NamesKeyValueAndAllowedRange) {
  EXPECT_EQ(config_error(with_data(GetParam().yaml)), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Values, ConfigRange,
    ::testing::Values(
        RangeCase{"train: {steps: 0}\n", "x.yaml:3:16: key 'train.steps': 0 is out of range (must be >= 1)"},
        RangeCase{"model: {hidden_size: -64}\n",
                  "x.yaml:3:22: key 'model.hidden_size': -64 is out of range (must be in [1, 65536])"},
        RangeCase{"model: {num_layers: 0}\n",
                  "x.yaml:3:21: key 'model.num_layers': 0 is out of range (must be in [1, 1024])"},
        RangeCase{"train: {micro_batch: 0}\n",
                  "x.yaml:3:22: key 'train.micro_batch': 0 is out of range (must be in [1, 1048576])"},
        RangeCase{"data: {paths: [a], seq_len: 1}\n",
                  "x.yaml:1:29: key 'data.seq_len': 1 is out of range (must be in [2, 1048576])"},
        RangeCase{"data: {paths: [a], max_line_bytes: 0}\n",
                  "x.yaml:1:36: key 'data.max_line_bytes': 0 is out of range (must be in [1, 1073741824])"},
        RangeCase{"checkpoint: {keep_last: 0}\n",
                  "x.yaml:3:25: key 'checkpoint.keep_last': 0 is out of range (must be >= 1)"},
        RangeCase{"optim: {lr: 0}\n", "x.yaml:3:13: key 'optim.lr': 0.0 is out of range (must be > 0)"},
        RangeCase{"optim: {lr: -1e-3}\n", "x.yaml:3:13: key 'optim.lr': -0.001 is out of range (must be > 0)"},
        RangeCase{"optim: {weight_decay: -0.1}\n",
                  "x.yaml:3:23: key 'optim.weight_decay': -0.1 is out of range (must be >= 0)"},
        RangeCase{"data: {paths: [a], val_fraction: 0.6}\n",
                  "x.yaml:1:34: key 'data.val_fraction': 0.6 is out of range (must be in [0, 0.5])"},
        RangeCase{"schedule: {switch_fraction: 1}\n",
                  "x.yaml:3:29: key 'schedule.switch_fraction': 1.0 is out of range (must be in (0, 1))"},
        RangeCase{"schedule: {stage2_lr_ratio: 0}\n",
                  "x.yaml:3:29: key 'schedule.stage2_lr_ratio': 0.0 is out of range (must be in (0, 1])"},
        RangeCase{"model: {rms_norm_eps: 0}\n",
                  "x.yaml:3:23: key 'model.rms_norm_eps': 0.0 is out of range (must be in (0, 1))"},
        RangeCase{"sample: {temperature: -1}\n",
                  "x.yaml:3:23: key 'sample.temperature': -1.0 is out of range (must be >= 0)"},
        RangeCase{"optim: {betas: [0.9]}\n",
                  "x.yaml:3:16: key 'optim.betas': expected exactly 2 numbers [beta1, beta2], found 1"},
        RangeCase{"optim: {betas: [0.9, 0.95, 0.99]}\n",
                  "x.yaml:3:16: key 'optim.betas': expected exactly 2 numbers [beta1, beta2], found 3"},
        RangeCase{"optim: {betas: [0.9, 1]}\n",
                  "x.yaml:3:16: key 'optim.betas': item 2 is 1.0, out of range (must be in (0, 1))"},
        RangeCase{"optim: {betas: [0, 0.9]}\n",
                  "x.yaml:3:16: key 'optim.betas': item 1 is 0.0, out of range (must be in (0, 1))"},
        RangeCase{"name: a/b\n",
                  "x.yaml:3:7: key 'name': \"a/b\" must be a plain directory name (no '/', not . or ..)"},
        RangeCase{"name: \"\"\n", "x.yaml:3:7: key 'name': must not be empty (it names the run directory)"},
        RangeCase{"data: {paths: [a], separator_line: \"a\\nb\"}\n",
                  "x.yaml:1:36: key 'data.separator_line': must be a single line (no line breaks)"}));

class ConfigEnum : public ::testing::TestWithParam<RangeCase> {};

TEST_P(ConfigEnum, NamesKeyValueAndAllowedValues) {
  EXPECT_EQ(config_error(with_data(GetParam().yaml)), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Values, ConfigEnum,
    ::testing::Values(
        RangeCase{"model: {hidden_act: gelu}\n",
                  "x.yaml:3:21: key 'model.hidden_act': \"gelu\" is not allowed (choose one of: relu2, silu)"},
        RangeCase{"quant: {mode: binary}\n",
                  "x.yaml:3:15: key 'quant.mode': \"binary\" is not allowed (choose one of: ternary, none)"},
        RangeCase{"tokenizer: {type: wordpiece}\n",
                  "x.yaml:3:19: key 'tokenizer.type': \"wordpiece\" is not allowed (choose one of: byte, bpe)"},
        RangeCase{"data: {paths: [a], format: csv}\n",
                  "x.yaml:1:28: key 'data.format': \"csv\" is not allowed (choose one of: text, jsonl, shards, hdf5)"},
        RangeCase{"train: {precision: fp16}\n",
                  "x.yaml:3:20: key 'train.precision': \"fp16\" is not allowed (choose one of: auto, bf16, fp32)"},
        RangeCase{"train: {device: tpu}\n",
                  "x.yaml:3:17: key 'train.device': \"tpu\" is not allowed (choose one of: auto, cpu, cuda, cuda:N)"},
        RangeCase{"train: {nan_policy: ignore}\n",
                  "x.yaml:3:21: key 'train.nan_policy': \"ignore\" is not allowed (choose one of: abort, skip)"},
        RangeCase{
            "schedule: {type: linear}\n",
            "x.yaml:3:18: key 'schedule.type': \"linear\" is not allowed (choose one of: constant, cosine, two_stage)"},
        RangeCase{"quant: {start_fraction: 1}\n",
                  "x.yaml:3:25: key 'quant.start_fraction': 1.0 is out of range (must be in [0, 1))"},
        RangeCase{"distributed: {backend: mpi}\n",
                  "x.yaml:3:24: key 'distributed.backend': \"mpi\" is not allowed (choose one of: auto, gloo, nccl)"}));

class ConfigCrossField : public ::testing::TestWithParam<RangeCase> {};

TEST_P(ConfigCrossField, NamesEveryKeyInvolved) {
  EXPECT_EQ(config_error(with_data(GetParam().yaml)), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Values, ConfigCrossField,
    ::testing::Values(
        RangeCase{"model: {hidden_size: 100, num_heads: 3}\n",
                  "x.yaml:3:22: 'model.hidden_size' (100) must be a multiple of 'model.num_heads' (3)"},
        // 96 / 32 = 3: a RoPE head needs an even size.
        RangeCase{"model: {hidden_size: 96, num_heads: 32, num_kv_heads: 1}\n",
                  "x.yaml:3:22: the head size 'model.hidden_size' (96) / 'model.num_heads' (32) = 3 must "
                  "be even (RoPE rotates pairs)"},
        // Only num_heads set: the position is that of num_heads, hidden_size is the default 256.
        RangeCase{"model: {num_heads: 3}\n",
                  "x.yaml:3:20: 'model.hidden_size' (256) must be a multiple of 'model.num_heads' (3)"},
        RangeCase{"model: {num_heads: 4, num_kv_heads: 3}\n",
                  "x.yaml:3:37: 'model.num_heads' (4) must be a multiple of 'model.num_kv_heads' (3)"},
        RangeCase{"train: {steps: 10, stop_after: 11}\n",
                  "x.yaml:3:32: 'train.stop_after' (11) must be <= 'train.steps' (10)"},
        RangeCase{"schedule: {warmup_steps: 200}\n",
                  "x.yaml:3:26: 'schedule.warmup_steps' (200) must be <= 'train.steps' (100)"},
        RangeCase{"schedule: {min_lr_ratio: 0.6, stage2_lr_ratio: 0.5}\n",
                  "x.yaml:3:26: 'schedule.min_lr_ratio' (0.6) must be <= 'schedule.stage2_lr_ratio' (0.5) for a "
                  "two_stage schedule"},
        RangeCase{"quant: {lambda_warmup_steps: 101}\n",
                  "x.yaml:3:30: 'quant.lambda_warmup_steps' (101) must be <= 'train.steps' (100)"},
        RangeCase{"quant: {mode: none, start_fraction: 0.5}\n",
                  "x.yaml:3:37: 'quant.start_fraction' (0.5) needs 'quant.mode' \"ternary\" (there is nothing to "
                  "switch to)"},
        RangeCase{"quant: {start_fraction: 0.5, lambda_warmup_steps: 60}\n",
                  "x.yaml:3:51: 'quant.lambda_warmup_steps' (60) must fit in the 50 steps left after "
                  "'quant.start_fraction' (0.5) of 'train.steps' (100)"},
        RangeCase{"model: {max_seq_len: 64}\n",
                  "x.yaml:3:22: 'data.seq_len' (128) must be <= 'model.max_seq_len' (64)"},
        RangeCase{"tokenizer: {type: bpe}\n",
                  "x.yaml:3:19: 'tokenizer.type' \"bpe\" needs 'tokenizer.path' (the tokenizer.json file)"},
        RangeCase{"sample: {every: 5, prompts: []}\n",
                  "x.yaml:3:29: 'sample.prompts' is empty but 'sample.every' (5) asks for samples"}));

TEST(ConfigValidate, CodeBuiltConfigsAreCheckedToo) {
  RunConfig config;
  config.data.paths = {"a.txt"};
  EXPECT_NO_THROW(validate_config(config));
  config.train.grad_accum = 0;
  try {
    validate_config(config);
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), "config: key 'train.grad_accum': 0 is out of range (must be in [1, 1048576])");
  }
  config.train.grad_accum = 1;
  config.optim.lr = std::numeric_limits<double>::infinity();
  EXPECT_THROW(validate_config(config), ConfigError);
}

}  // namespace
}  // namespace bitnet
