// key.sub=value overrides: how values are read, that they pass the same validation as the file,
// and the errors for malformed or unknown overrides.
#include <gtest/gtest.h>

#include "tests/trainer/config_test_util.h"
#include "trainer/config.h"

namespace bitnet {
namespace {

using testing::config_error;
using testing::kMinimal;

RunConfig with(const std::vector<std::string>& overrides, const std::string& yaml = kMinimal) {
  return parse_config(yaml, "x.yaml", overrides);
}

TEST(ConfigOverride, SetsScalarsOfEveryType) {
  const RunConfig c = with({"train.steps=500", "optim.lr=3e-4", "train.deterministic=false", "model.hidden_act=silu",
                            "name=tiny", "resume=auto"});
  EXPECT_EQ(c.train.steps, 500);
  EXPECT_EQ(c.optim.lr, 3e-4);
  EXPECT_FALSE(c.train.deterministic);
  EXPECT_STREQ(enum_name(c.model.hidden_act), "silu");
  EXPECT_EQ(c.name, "tiny");
  EXPECT_EQ(c.resume, "auto");
}

TEST(ConfigOverride, ListsTakeYamlFlowListsOrOneBareItem) {
  EXPECT_EQ(with({"optim.betas=[0.9,0.99]"}).optim.betas, (std::vector<double>{0.9, 0.99}));
  EXPECT_EQ(with({"data.paths=[a.txt]"}).data.paths, std::vector<std::string>{"a.txt"});
  EXPECT_EQ(with({"data.paths=[a.txt, \"b c.txt\"]"}).data.paths, (std::vector<std::string>{"a.txt", "b c.txt"}));
  EXPECT_EQ(with({"data.paths=a.txt"}).data.paths, std::vector<std::string>{"a.txt"});
  // A glob would be a YAML alias and '#' a comment; bare items are taken as written.
  EXPECT_EQ(with({"data.paths=*.txt"}).data.paths, std::vector<std::string>{"*.txt"});
  EXPECT_EQ(with({"sample.prompts=Once upon a time, #1"}).sample.prompts,
            std::vector<std::string>{"Once upon a time, #1"});
  EXPECT_EQ(with({"sample.prompts=[]"}).sample.prompts, std::vector<std::string>{});
}

TEST(ConfigOverride, StringsAreLiteralUnlessQuoted) {
  EXPECT_EQ(with({"init_from=dir with spaces/#x: y"}).init_from, "dir with spaces/#x: y");
  EXPECT_EQ(with({"data.separator_line="}).data.separator_line, "");
  EXPECT_EQ(with({"data.separator_line=\"\\t--\""}).data.separator_line, "\t--");
  EXPECT_EQ(with({"name='quoted'"}).name, "quoted");
  EXPECT_EQ(with({"tokenizer.path=a=b.json"}).tokenizer.path, "a=b.json");  // split at the first '='
}

TEST(ConfigOverride, ApplyInOrderAfterTheFile) {
  const std::string yaml = std::string(kMinimal) + "train: {steps: 50, seed: 9}\n";
  const RunConfig c = with({"train.steps=60", "train.steps=70"}, yaml);
  EXPECT_EQ(c.train.steps, 70);
  EXPECT_EQ(c.train.seed, 9);
}

TEST(ConfigOverride, SupplyRequiredKeysAndRepairFileValues) {
  EXPECT_EQ(with({"data.paths=[x.txt]"}, "train: {steps: 5}\n").data.paths, std::vector<std::string>{"x.txt"});
  // Validation judges the final value, so an override can fix a bad file value.
  EXPECT_EQ(with({"train.steps=10"}, std::string(kMinimal) + "train: {steps: 0}\n").train.steps, 10);
}

TEST(ConfigOverride, WholeSectionsTakeAYamlMap) {
  const RunConfig c = with({"optim={lr: 0.01, eps: 1e-6}"});
  EXPECT_EQ(c.optim.lr, 0.01);
  EXPECT_EQ(c.optim.eps, 1e-6);
  EXPECT_EQ(c.optim.weight_decay, 0.1);
  EXPECT_EQ(config_error(kMinimal, {"optim={lr: 0.01, lr: 0.02}"}),
            "override 'optim={lr: 0.01, lr: 0.02}': duplicate key 'optim.lr'");
  EXPECT_EQ(config_error(kMinimal, {"optim=5"}),
            "override 'optim=5': key 'optim': a section must be a map of keys, found '5'");
}

TEST(ConfigOverride, ErrorsNameTheOverride) {
  EXPECT_EQ(config_error(kMinimal, {"train.steps=abc"}),
            "override 'train.steps=abc': key 'train.steps': expected an integer, found 'abc'");
  EXPECT_EQ(config_error(kMinimal, {"train.steps=0"}),
            "override 'train.steps=0': key 'train.steps': 0 is out of range (must be >= 1)");
  EXPECT_EQ(config_error(kMinimal, {"optim.betas=0.9"}),
            "override 'optim.betas=0.9': key 'optim.betas': expected a list of numbers, found '0.9'");
  EXPECT_EQ(config_error(kMinimal, {"optim.betas=[0.9,"}),
            "override 'optim.betas=[0.9,': invalid YAML value: end of sequence flow not found");
  EXPECT_EQ(config_error(kMinimal, {"model.num_heads=3"}),
            "override 'model.num_heads=3': 'model.hidden_size' (256) must be a multiple of "
            "'model.num_heads' (3)");
}

TEST(ConfigOverride, UnknownKeysSuggestTheNearest) {
  EXPECT_EQ(config_error(kMinimal, {"optim.learning_rate=1e-3"}),
            "override 'optim.learning_rate=1e-3': unknown key 'optim.learning_rate' (did you mean 'optim.lr'?)");
  EXPECT_EQ(config_error(kMinimal, {"data.path=my.jsonl"}),
            "override 'data.path=my.jsonl': unknown key 'data.path' (did you mean 'data.paths'?)");
  EXPECT_EQ(config_error(kMinimal, {"optim.lr.x=1"}),
            "override 'optim.lr.x=1': unknown key 'optim.lr.x' (did you mean 'optim.lr'?)");
  EXPECT_EQ(config_error(kMinimal, {"qqqqqqqq=1"}), "override 'qqqqqqqq=1': unknown key 'qqqqqqqq'");
}

TEST(ConfigOverride, MalformedOverridesAreErrors) {
  EXPECT_EQ(config_error(kMinimal, {"train.steps"}), "override 'train.steps': expected key=value, e.g. optim.lr=3e-4");
  EXPECT_EQ(config_error(kMinimal, {"=5"}), "override '=5': the key before '=' is empty");
}

}  // namespace
}  // namespace bitnet
