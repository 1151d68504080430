// Reading configs: defaults, every key set, the accepted forms of each value type, and the errors
// for bad files (missing, empty, not a map, several documents, YAML syntax).
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "tests/trainer/config_test_util.h"
#include "trainer/config.h"

namespace bitnet {
namespace {

using testing::config_error;
using testing::kMinimal;

TEST(ConfigParse, MissingKeysTakeTheDocumentedDefaults) {
  const RunConfig c = parse_config(kMinimal, "x.yaml");
  EXPECT_EQ(c.data.paths, std::vector<std::string>{"corpus.txt"});
  // The defaults as the reference documents them.
  EXPECT_EQ(c.name, "run");
  EXPECT_EQ(c.resume, "");
  EXPECT_EQ(c.init_from, "");
  EXPECT_EQ(c.model.vocab_size, 0);
  EXPECT_EQ(c.model.hidden_size, 256);
  EXPECT_EQ(c.model.num_layers, 4);
  EXPECT_EQ(c.model.num_heads, 4);
  EXPECT_EQ(c.model.num_kv_heads, 4);
  EXPECT_EQ(c.model.intermediate_size, 768);
  EXPECT_EQ(c.model.max_seq_len, 2048);
  EXPECT_EQ(c.model.rope_theta, 10000.0);
  EXPECT_EQ(c.model.rms_norm_eps, 1e-5);
  EXPECT_TRUE(c.model.tie_embeddings);
  EXPECT_STREQ(enum_name(c.model.hidden_act), "relu2");
  EXPECT_EQ(c.model.init_std, 0.02);
  EXPECT_STREQ(enum_name(c.quant.mode), "ternary");
  EXPECT_EQ(c.quant.lambda_warmup_steps, 0);
  EXPECT_STREQ(enum_name(c.tokenizer.type), "byte");
  EXPECT_EQ(c.tokenizer.path, "");
  EXPECT_STREQ(enum_name(c.data.format), "text");
  EXPECT_EQ(c.data.separator_line, "%");
  EXPECT_EQ(c.data.seq_len, 128);
  EXPECT_EQ(c.data.val_fraction, 0.02);
  EXPECT_EQ(c.data.max_line_bytes, 16 * 1024 * 1024);
  EXPECT_EQ(c.train.steps, 100);
  EXPECT_EQ(c.train.stop_after, 0);
  EXPECT_EQ(c.train.micro_batch, 8);
  EXPECT_EQ(c.train.grad_accum, 1);
  EXPECT_STREQ(enum_name(c.train.precision), "auto");
  EXPECT_EQ(c.train.threads, 0);
  EXPECT_EQ(c.train.seed, 1234);
  EXPECT_TRUE(c.train.deterministic);
  EXPECT_EQ(device_setting_name(c.train.device), "auto");
  EXPECT_STREQ(enum_name(c.train.nan_policy), "abort");
  EXPECT_EQ(c.train.max_nan_skips, 10);
  EXPECT_EQ(c.optim.lr, 1.5e-3);
  EXPECT_EQ(c.optim.betas, (std::vector<double>{0.9, 0.95}));
  EXPECT_EQ(c.optim.eps, 1e-8);
  EXPECT_EQ(c.optim.weight_decay, 0.1);
  EXPECT_EQ(c.optim.grad_clip, 1.0);
  EXPECT_STREQ(enum_name(c.schedule.type), "two_stage");
  EXPECT_EQ(c.schedule.warmup_steps, 0);
  EXPECT_EQ(c.schedule.min_lr_ratio, 0.1);
  EXPECT_EQ(c.schedule.switch_fraction, 0.5);
  EXPECT_EQ(c.schedule.stage2_lr_ratio, 0.5);
  EXPECT_EQ(c.checkpoint.every, 0);
  EXPECT_EQ(c.checkpoint.keep_last, 3);
  EXPECT_EQ(c.eval.every, 50);
  EXPECT_EQ(c.eval.batches, 8);
  EXPECT_EQ(c.sample.every, 0);
  EXPECT_EQ(c.sample.prompts, std::vector<std::string>{"The "});
  EXPECT_EQ(c.sample.tokens, 64);
  EXPECT_EQ(c.sample.temperature, 0.8);
  EXPECT_EQ(c.sample.top_k, 40);
  EXPECT_EQ(c.log.dir, "runs");
  EXPECT_EQ(c.log.every, 10);
  EXPECT_STREQ(enum_name(c.distributed.backend), "auto");
  EXPECT_EQ(c.distributed.timeout_s, 300);
}

TEST(ConfigParse, EveryKeyCanBeSet) {
  const char* yaml = R"(# a config that moves every key off its default
name: tiny
resume: auto
init_from: weights/base
model:
  vocab_size: 300
  hidden_size: 64
  num_layers: 2
  num_heads: 8
  num_kv_heads: 2
  intermediate_size: 192
  max_seq_len: 512
  rope_theta: 500000
  rms_norm_eps: 1e-6
  tie_embeddings: false
  hidden_act: silu
  init_std: .01
quant: {mode: none, lambda_warmup_steps: 20}
tokenizer:
  type: bpe
  path: tok/tokenizer.json
data:
  format: text
  paths:
    - a.txt
    - "corpus/*.txt"
  separator_line: ""
  seq_len: 256
  val_fraction: 0.5
  max_line_bytes: 4096
train:
  steps: 1000
  stop_after: 500
  micro_batch: 4
  grad_accum: 2
  precision: fp32
  threads: 2
  seed: 7
  deterministic: false
  device: cuda
  nan_policy: skip
  max_nan_skips: 3
optim:
  lr: 3e-4
  betas: [0.8, 0.99]
  eps: 1e-6
  weight_decay: 0
  grad_clip: 0.5
schedule:
  type: cosine
  warmup_steps: 100
  min_lr_ratio: 0
  switch_fraction: 0.25
  stage2_lr_ratio: 1
checkpoint: {every: 100, keep_last: 1}
eval: {every: 0, batches: 2}
sample:
  every: 10
  prompts: ["Once", "The sea"]
  tokens: 16
  temperature: 0
  top_k: 0
log: {dir: out, every: 1}
distributed: {backend: nccl, timeout_s: 60}
)";
  const RunConfig c = parse_config(yaml, "x.yaml");
  EXPECT_EQ(c.name, "tiny");
  EXPECT_EQ(c.resume, "auto");
  EXPECT_EQ(c.init_from, "weights/base");
  EXPECT_EQ(c.model.vocab_size, 300);
  EXPECT_EQ(c.model.hidden_size, 64);
  EXPECT_EQ(c.model.num_layers, 2);
  EXPECT_EQ(c.model.num_heads, 8);
  EXPECT_EQ(c.model.num_kv_heads, 2);
  EXPECT_EQ(c.model.intermediate_size, 192);
  EXPECT_EQ(c.model.max_seq_len, 512);
  EXPECT_EQ(c.model.rope_theta, 500000.0);
  EXPECT_EQ(c.model.rms_norm_eps, 1e-6);
  EXPECT_FALSE(c.model.tie_embeddings);
  EXPECT_STREQ(enum_name(c.model.hidden_act), "silu");
  EXPECT_EQ(c.model.init_std, 0.01);
  EXPECT_STREQ(enum_name(c.quant.mode), "none");
  EXPECT_EQ(c.quant.lambda_warmup_steps, 20);
  EXPECT_STREQ(enum_name(c.tokenizer.type), "bpe");
  EXPECT_EQ(c.tokenizer.path, "tok/tokenizer.json");
  EXPECT_EQ(c.data.paths, (std::vector<std::string>{"a.txt", "corpus/*.txt"}));
  EXPECT_EQ(c.data.separator_line, "");
  EXPECT_EQ(c.data.seq_len, 256);
  EXPECT_EQ(c.data.val_fraction, 0.5);
  EXPECT_EQ(c.data.max_line_bytes, 4096);
  EXPECT_EQ(c.train.steps, 1000);
  EXPECT_EQ(c.train.stop_after, 500);
  EXPECT_EQ(c.train.micro_batch, 4);
  EXPECT_EQ(c.train.grad_accum, 2);
  EXPECT_STREQ(enum_name(c.train.precision), "fp32");
  EXPECT_EQ(c.train.threads, 2);
  EXPECT_EQ(c.train.seed, 7);
  EXPECT_FALSE(c.train.deterministic);
  EXPECT_EQ(device_setting_name(c.train.device), "cuda");
  EXPECT_STREQ(enum_name(c.train.nan_policy), "skip");
  EXPECT_EQ(c.train.max_nan_skips, 3);
  EXPECT_EQ(c.optim.lr, 3e-4);
  EXPECT_EQ(c.optim.betas, (std::vector<double>{0.8, 0.99}));
  EXPECT_EQ(c.optim.eps, 1e-6);
  EXPECT_EQ(c.optim.weight_decay, 0.0);
  EXPECT_EQ(c.optim.grad_clip, 0.5);
  EXPECT_STREQ(enum_name(c.schedule.type), "cosine");
  EXPECT_EQ(c.schedule.warmup_steps, 100);
  EXPECT_EQ(c.schedule.min_lr_ratio, 0.0);
  EXPECT_EQ(c.schedule.switch_fraction, 0.25);
  EXPECT_EQ(c.schedule.stage2_lr_ratio, 1.0);
  EXPECT_EQ(c.checkpoint.every, 100);
  EXPECT_EQ(c.checkpoint.keep_last, 1);
  EXPECT_EQ(c.eval.every, 0);
  EXPECT_EQ(c.eval.batches, 2);
  EXPECT_EQ(c.sample.every, 10);
  EXPECT_EQ(c.sample.prompts, (std::vector<std::string>{"Once", "The sea"}));
  EXPECT_EQ(c.sample.tokens, 16);
  EXPECT_EQ(c.sample.temperature, 0.0);
  EXPECT_EQ(c.sample.top_k, 0);
  EXPECT_EQ(c.log.dir, "out");
  EXPECT_EQ(c.log.every, 1);
  EXPECT_STREQ(enum_name(c.distributed.backend), "nccl");
  EXPECT_EQ(c.distributed.timeout_s, 60);
}

// Modes are enums read from their names once; the printed config names them again and reads back.
TEST(ConfigParse, ModesAreParsedFromTheirNamesAndPrintedBack) {
  const RunConfig c = parse_config(std::string(kMinimal), "x.yaml",
                                   {"train.device=cuda:3", "data.sft_layout=pad", "train.precision=bf16",
                                    "model.hidden_act=silu", "data.chat_template=bitnet-2b4t"});
  EXPECT_EQ(c.train.device, (DeviceSetting{DeviceKind::kCuda, 3}));
  EXPECT_EQ(c.data.sft_layout, SftLayout::kPad);
  EXPECT_EQ(c.train.precision, Precision::kBf16);
  EXPECT_EQ(c.model.hidden_act, formats::HiddenAct::silu);
  EXPECT_EQ(c.data.chat_template, data::ChatTemplate::kBitnet2b4t);
  const std::string yaml = config_to_yaml(c);
  EXPECT_NE(yaml.find("device: \"cuda:3\""), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("chat_template: \"bitnet-2b4t\""), std::string::npos) << yaml;
  EXPECT_EQ(config_to_yaml(parse_config(yaml, "printed.yaml")), yaml);
  for (const char* bad : {"cuda:", "cuda:x", "cuda:1234", "CPU", "gpu"}) {
    EXPECT_NE(config_error(std::string(kMinimal), {std::string("train.device=") + bad}).find("is not allowed"),
              std::string::npos)
        << bad;
  }
}

TEST(ConfigParse, FloatsAcceptIntegerExponentAndBareDotForms) {
  const auto lr = [](const std::string& text) {
    return parse_config(std::string(kMinimal) + "optim:\n  lr: " + text + "\n", "x.yaml").optim.lr;
  };
  EXPECT_EQ(lr("1e-4"), 0.0001);
  EXPECT_EQ(lr("1E-4"), 0.0001);
  EXPECT_EQ(lr("3"), 3.0);
  EXPECT_EQ(lr(".5"), 0.5);
  EXPECT_EQ(lr("2."), 2.0);
  EXPECT_EQ(lr("+2.5e+1"), 25.0);
  EXPECT_EQ(lr("\"0.25\""), 0.25);  // a quoted number still reads as that number
}

TEST(ConfigParse, IntegersAcceptOnlyWholeDecimalNumbers) {
  const auto steps = [](const std::string& text) {
    return parse_config(std::string(kMinimal) + "train:\n  steps: " + text + "\n", "x.yaml").train.steps;
  };
  EXPECT_EQ(steps("1000"), 1000);
  EXPECT_EQ(steps("+12"), 12);
  EXPECT_EQ(steps("007"), 7);
  EXPECT_EQ(steps("\"1000\""), 1000);
  // Value column 10 = two spaces + "steps: ".
  for (const char* bad : {"1.5", "1e3", "0x10", "abc", "1_000", "10.0"}) {
    EXPECT_EQ(config_error(std::string(kMinimal) + "train:\n  steps: " + bad + "\n"),
              std::string("x.yaml:4:10: key 'train.steps': expected an integer, found '") + bad + "'");
  }
  EXPECT_EQ(config_error(std::string(kMinimal) + "train:\n  steps: 9223372036854775808\n"),
            "x.yaml:4:10: key 'train.steps': '9223372036854775808' does not fit in a 64-bit integer");
}

TEST(ConfigParse, BoolsAcceptTrueAndFalseOnly) {
  const auto det = [](const std::string& text) {
    return parse_config(std::string(kMinimal) + "train: {deterministic: " + text + "}\n", "x.yaml").train.deterministic;
  };
  EXPECT_TRUE(det("true"));
  EXPECT_FALSE(det("false"));
  for (const char* bad : {"yes", "no", "on", "1", "0", "y"}) {
    EXPECT_EQ(config_error(std::string(kMinimal) + "train: {deterministic: " + bad + "}\n"),
              std::string("x.yaml:3:24: key 'train.deterministic': expected true or false, found '") + bad + "'");
  }
}

TEST(ConfigParse, NumbersRejectNonNumbersAndSpecialValues) {
  for (const char* bad : {"abc", ".inf", ".nan", "nan", "inf", "1e", "e5", "0x1p3", "1,5"}) {
    EXPECT_EQ(config_error(std::string(kMinimal) + "optim:\n  lr: " + bad + "\n"),
              std::string("x.yaml:4:7: key 'optim.lr': expected a number, found '") + bad + "'");
  }
  EXPECT_EQ(config_error(std::string(kMinimal) + "optim:\n  lr:\n"),
            "x.yaml:4:3: key 'optim.lr': expected a number, found nothing");
  EXPECT_EQ(config_error(std::string(kMinimal) + "optim:\n  lr: [1]\n"),
            "x.yaml:4:7: key 'optim.lr': expected a number, found a list");
  EXPECT_EQ(config_error(std::string(kMinimal) + "optim:\n  lr: 1e999\n"),
            "x.yaml:4:7: key 'optim.lr': expected a number, found '1e999'");
}

TEST(ConfigParse, ListsMustBeLists) {
  EXPECT_EQ(config_error("data:\n  paths: a.txt\n"),
            "x.yaml:2:10: key 'data.paths': expected a list of strings, found 'a.txt' (write a list: [a.txt])");
  EXPECT_EQ(config_error("data:\n  paths: [a.txt, [b]]\n"),
            "x.yaml:2:18: key 'data.paths': item 2: expected a string, found a list");
  EXPECT_EQ(config_error(std::string(kMinimal) + "optim: {betas: 0.9}\n"),
            "x.yaml:3:16: key 'optim.betas': expected a list of numbers, found '0.9'");
  EXPECT_EQ(config_error(std::string(kMinimal) + "optim: {betas: [0.9, x]}\n"),
            "x.yaml:3:22: key 'optim.betas': item 2: expected a number, found 'x'");
  EXPECT_EQ(config_error(std::string(kMinimal) + "name: [a]\n"),
            "x.yaml:3:7: key 'name': expected a string, found a list");
}

TEST(ConfigParse, SectionsMustBeMaps) {
  EXPECT_EQ(config_error(std::string(kMinimal) + "model: 5\n"),
            "x.yaml:3:8: key 'model': a section must be a map of keys, found '5'");
  EXPECT_EQ(config_error(std::string(kMinimal) + "train:\n  - steps\n"),
            "x.yaml:4:3: key 'train': a section must be a map of keys, found a list");
  // An empty section keeps its defaults.
  EXPECT_EQ(parse_config(std::string(kMinimal) + "model:\n", "x.yaml").model.hidden_size, 256);
}

TEST(ConfigParse, DataPathsIsRequiredAndNonEmpty) {
  EXPECT_EQ(config_error("train: {steps: 5}\n"),
            "x.yaml: missing required key 'data.paths' (the training files or globs, e.g. "
            "'data: {paths: [corpus.txt]}'), or 'data.sources' for a mixture of datasets");
  EXPECT_EQ(config_error("data:\n  paths: []\n"), "x.yaml:2:10: key 'data.paths': must list at least one file or glob");
  EXPECT_EQ(config_error("data:\n  paths: [a.txt, \"\"]\n"), "x.yaml:2:10: key 'data.paths': item 2 is an empty path");
}

TEST(ConfigParse, EmptyOrNonMapDocumentsAreRejected) {
  const std::string empty =
      "x.yaml: the config is empty; it needs at least the training data, "
      "e.g. 'data: {paths: [corpus.txt]}'";
  EXPECT_EQ(config_error(""), empty);
  EXPECT_EQ(config_error("# only a comment\n\n"), empty);
  EXPECT_EQ(config_error("- a\n- b\n"),
            "x.yaml:1:1: the top level must be a map of keys (e.g. 'model:', 'train:'), found a list");
  EXPECT_EQ(config_error("just text\n"),
            "x.yaml:1:1: the top level must be a map of keys (e.g. 'model:', 'train:'), found 'just text'");
  EXPECT_EQ(config_error("data: {paths: [a]}\n---\nname: b\n"),
            "x.yaml: holds 2 YAML documents (separated by '---'); a config is a single document");
}

TEST(ConfigParse, YamlSyntaxErrorsNameLineAndColumn) {
  // A flow list may span lines, so the unclosed '[' is only noticed at the end of the input.
  EXPECT_EQ(config_error("data:\n  paths: [a.txt,\ntrain: {steps: 1}\n"),
            "x.yaml:4:1: invalid YAML: end of sequence flow not found");
  EXPECT_EQ(config_error("data:\n  paths: [a]\n  seq_len: 4: 5\n"), "x.yaml:3:13: invalid YAML: illegal map value");
  // yaml-cpp's LoadAll loops forever on these (a stray ',' never consumed); found by fuzzing.
  EXPECT_EQ(config_error(","), "x.yaml:1:1: invalid YAML: unexpected ',' where a value should start");
  EXPECT_EQ(config_error(",n;"), "x.yaml:1:1: invalid YAML: unexpected ',' where a value should start");
  EXPECT_EQ(config_error("\n  ,\n"), "x.yaml:2:3: invalid YAML: unexpected ',' where a value should start");
  EXPECT_EQ(config_error("---\n---\n"),
            "x.yaml: holds 2 YAML documents (separated by '---'); a config is a single document");
  const std::string tab = config_error("data:\n  paths: [a]\n\tname: x\n");
  EXPECT_EQ(tab.rfind("x.yaml:3:", 0), 0u) << tab;
  EXPECT_NE(tab.find("invalid YAML"), std::string::npos) << tab;
}

TEST(ConfigParse, DottedKeysInAFileGetAHint) {
  EXPECT_EQ(config_error(std::string(kMinimal) + "optim.lr: 0.1\n"),
            "x.yaml:3:1: dotted key 'optim.lr': in a file, write it nested (the section, then the "
            "key indented under it)");
}

class ConfigFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("bitnet_config_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  std::filesystem::path dir_;
};

TEST_F(ConfigFileTest, LoadsAFileAndAppliesOverrides) {
  const std::string path = write("ok.yaml", "data:\n  paths: [corpus.txt]\ntrain:\n  steps: 20\n");
  const RunConfig c = load_config(path, {"train.steps=30"});
  EXPECT_EQ(c.train.steps, 30);
  EXPECT_EQ(c.data.paths, std::vector<std::string>{"corpus.txt"});
}

TEST_F(ConfigFileTest, ErrorsNameTheFilePath) {
  const std::string path = write("bad.yaml", "data:\n  paths: [a]\ntrain:\n  stepz: 1\n");
  try {
    load_config(path);
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), path + ":4:3: unknown key 'train.stepz' (did you mean 'train.steps'?)");
  }
}

TEST_F(ConfigFileTest, MissingEmptyAndDirectoryPathsAreClearErrors) {
  const std::string missing = (dir_ / "nope.yaml").string();
  EXPECT_THROW(
      {
        try {
          load_config(missing);
        } catch (const ConfigError& e) {
          EXPECT_EQ(std::string(e.what()), "config file '" + missing + "' does not exist");
          throw;
        }
      },
      ConfigError);
  const std::string empty = write("empty.yaml", "");
  EXPECT_THROW(
      {
        try {
          load_config(empty);
        } catch (const ConfigError& e) {
          EXPECT_EQ(std::string(e.what()).rfind(empty + ": the config is empty", 0), 0u) << e.what();
          throw;
        }
      },
      ConfigError);
  EXPECT_THROW(
      {
        try {
          load_config(dir_.string());
        } catch (const ConfigError& e) {
          EXPECT_EQ(std::string(e.what()), "config file '" + dir_.string() + "' is not a regular file");
          throw;
        }
      },
      ConfigError);
}

}  // namespace
}  // namespace bitnet
