// config_to_yaml / config_hash / config_keys: the printed config lists every key, reads back to
// an identical RunConfig (doubles and awkward strings included), and the hash is XXH64 of it.
#include <gtest/gtest.h>

#include <xxhash.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "tests/trainer/config_test_util.h"
#include "trainer/config.h"

namespace bitnet {
namespace {

using testing::expect_same;
using testing::kMinimal;

RunConfig awkward_config() {
  RunConfig c;
  c.name = "my run: \"quoted\" #1";
  c.resume = "auto";
  c.init_from = "";
  c.data.paths = {"data/*.txt", "a b.txt", "&anchor", "- dash", "null", "true", "123"};
  c.data.separator_line = "%";
  c.sample.prompts = {"The ",
                      "",
                      "line one\nline two",
                      "tab\there",
                      "quote \" and \\ backslash",
                      "'single'",
                      "caf\xc3\xa9 \xe2\x82\xac",
                      "# not a comment",
                      "key: value",
                      "[not, a, list]",
                      "{not: a map}",
                      "ctrl \x01\x7f",
                      "  leading and trailing  "};
  c.optim.lr = 1e-4;
  c.optim.weight_decay = 0.1;
  c.optim.eps = 5e-324;                         // the smallest positive double
  c.optim.betas = {0.1 + 0.2, 0.999};           // 0.30000000000000004
  c.model.rope_theta = 1.7976931348623157e308;  // the largest double
  c.sample.temperature = 1.0 / 3.0;
  c.model.init_std = 0.02;
  c.data.val_fraction = 0.0;
  c.train.seed = 9223372036854775807;
  c.train.steps = 1000000;
  return c;
}

TEST(ConfigPrint, RoundTripsDefaults) {
  const RunConfig c = parse_config(kMinimal, "x.yaml");
  const std::string text = config_to_yaml(c);
  expect_same(parse_config(text, "printed.yaml"), c);
}

TEST(ConfigPrint, RoundTripsExactDoublesAndAwkwardStrings) {
  const RunConfig c = awkward_config();
  const std::string text = config_to_yaml(c);
  const RunConfig back = parse_config(text, "printed.yaml");
  expect_same(back, c);
  EXPECT_EQ(config_to_yaml(back), text);
  EXPECT_EQ(config_hash(back), config_hash(c));
}

TEST(ConfigPrint, PrintsShortestDoublesAndQuotedStrings) {
  const std::string text = config_to_yaml(awkward_config());
  EXPECT_NE(text.find("\n  lr: 1e-4\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\n  eps: 5e-324\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\n  rope_theta: 1.7976931348623157e308\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\n  temperature: 0.3333333333333333\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\n  weight_decay: 0.1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\n  betas: [0.30000000000000004, 0.999]\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\n  separator_line: \"%\"\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\n  val_fraction: 0.0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nname: \"my run: \\\"quoted\\\" #1\"\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\"line one\\nline two\""), std::string::npos) << text;
  EXPECT_NE(text.find("\"ctrl \\x01\\x7f\""), std::string::npos) << text;
}

TEST(ConfigPrint, ListsEveryKeyOnce) {
  const std::string text = config_to_yaml(parse_config(kMinimal, "x.yaml"));
  std::istringstream lines(text);
  std::string line, section;
  std::vector<std::string> printed;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t colon = line.find(':');
    ASSERT_NE(colon, std::string::npos) << line;
    if (line.rfind("  ", 0) == 0) {
      printed.push_back(section + "." + line.substr(2, colon - 2));
    } else if (colon + 1 == line.size()) {
      section = line.substr(0, colon);
    } else {
      printed.push_back(line.substr(0, colon));
    }
  }
  EXPECT_EQ(printed, config_keys());
}

TEST(ConfigKeys, AreUniqueAndCoverTheDocumentedSections) {
  const std::vector<std::string> keys = config_keys();
  EXPECT_EQ(keys.size(), 73u);  // 4 top-level + 69 in the 13 sections, counted from config.h
  EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()).size(), keys.size());
  for (const char* key : {"name", "resume", "init_from", "model.vocab_size", "optim.lr", "optim.betas", "data.paths",
                          "schedule.stage2_lr_ratio", "distributed.timeout_s"}) {
    EXPECT_NE(std::find(keys.begin(), keys.end(), key), keys.end()) << key;
  }
}

TEST(ConfigKeys, EveryKeyIsDocumented) {
  std::ifstream in(std::string(BITNET_SOURCE_DIR) + "/docs/configs.md");
  ASSERT_TRUE(in) << "docs/configs.md is missing";
  std::stringstream text;
  text << in.rdbuf();
  for (const std::string& key : config_keys()) {
    EXPECT_NE(text.str().find("`" + key + "`"), std::string::npos) << key << " is not in docs/configs.md";
  }
}

TEST(ConfigHash, IsXxh64OfThePrintedConfig) {
  const RunConfig c = parse_config(kMinimal, "x.yaml");
  const std::string text = config_to_yaml(c);
  char expected[17];
  std::snprintf(expected, sizeof(expected), "%016llx",
                static_cast<unsigned long long>(XXH64(text.data(), text.size(), 0)));
  EXPECT_EQ(config_hash(c), expected);
  RunConfig other = c;
  other.optim.lr = std::nextafter(c.optim.lr, 1.0);
  EXPECT_NE(config_hash(other), config_hash(c));
}

}  // namespace
}  // namespace bitnet
