// data.sources, a list of maps: parsing, printing and reading back, overrides, and errors that
// name the key path with the source's index.
#include <gtest/gtest.h>

#include "tests/trainer/config_test_util.h"
#include "trainer/config.h"

namespace bitnet {
namespace {

using testing::config_error;
using testing::expect_same;

const char* kMixture =
    "data:\n"
    "  format: text\n"
    "  sources:\n"
    "    - paths: [a.txt, b/*.txt]\n"
    "      weight: 0.7\n"
    "    - {paths: [chat.jsonl], format: jsonl, weight: 3, chat_template: llama3}\n"
    "    - paths: [t.h5]\n"
    "      format: hdf5\n"
    "      weight: 1e-1\n"
    "      hdf5_dataset: tokens\n"
    "      hdf5_offsets: starts\n";

TEST(ConfigSources, ParseEachSourceAndLeaveUnsetKeysToData) {
  const RunConfig c = parse_config(kMixture, "x.yaml");
  ASSERT_EQ(c.data.sources.size(), 3u);
  const DataSourceConfig& text = c.data.sources[0];
  EXPECT_EQ(text.paths, (std::vector<std::string>{"a.txt", "b/*.txt"}));
  EXPECT_EQ(text.weight, 0.7);
  EXPECT_FALSE(text.format.has_value());  // data.format applies
  EXPECT_FALSE(text.separator_line.has_value());
  const DataSourceConfig& chat = c.data.sources[1];
  EXPECT_EQ(chat.format, data::DataFormat::kJsonl);
  EXPECT_EQ(chat.weight, 3.0);
  EXPECT_EQ(chat.chat_template, data::ChatTemplate::kLlama3);
  const DataSourceConfig& h5 = c.data.sources[2];
  EXPECT_EQ(h5.weight, 0.1);
  EXPECT_EQ(h5.hdf5_dataset, "tokens");
  EXPECT_EQ(h5.hdf5_offsets, "starts");
  EXPECT_TRUE(c.data.paths.empty());
}

TEST(ConfigSources, PrintAsFlowMapsAndReadBackIdentically) {
  RunConfig c = parse_config(kMixture, "x.yaml");
  c.data.sources[0].separator_line = "";  // set to empty differs from unset
  const std::string text = config_to_yaml(c);
  EXPECT_NE(text.find("  sources: [{paths: [\"a.txt\", \"b/*.txt\"], weight: 0.7, separator_line: \"\"}, "
                      "{paths: [\"chat.jsonl\"], format: \"jsonl\", weight: 3.0, chat_template: \"llama3\"}, "
                      "{paths: [\"t.h5\"], format: \"hdf5\", weight: 0.1, hdf5_dataset: \"tokens\", "
                      "hdf5_offsets: \"starts\"}]\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("  paths: []\n"), std::string::npos);
  const RunConfig back = parse_config(text, "printed.yaml");
  expect_same(back, c);
  EXPECT_EQ(config_to_yaml(back), text);
  EXPECT_NE(config_hash(c), config_hash(parse_config(kMixture, "x.yaml")));
}

TEST(ConfigSources, OverridesReplaceTheWholeList) {
  const RunConfig c = parse_config("name: x\n", "x.yaml", {"data.sources=[{paths: [a.txt], weight: 1}]"});
  ASSERT_EQ(c.data.sources.size(), 1u);
  EXPECT_EQ(c.data.sources[0].paths, std::vector<std::string>{"a.txt"});

  // A file with data.paths becomes a mixture when the override also empties data.paths.
  const RunConfig m =
      parse_config(testing::kMinimal, "x.yaml", {"data.paths=[]", "data={sources: [{paths: [b.txt], weight: 2}]}"});
  EXPECT_TRUE(m.data.paths.empty());
  EXPECT_EQ(m.data.sources.at(0).weight, 2.0);

  // The last override wins; messages point at the override that set the bad value.
  EXPECT_EQ(config_error(kMixture, {"data.sources=[{paths: [a.txt], weight: 0}]"}),
            "override 'data.sources=[{paths: [a.txt], weight: 0}]': key 'data.sources[0].weight': "
            "0.0 is out of range (must be > 0)");
}

TEST(ConfigSources, TypeErrorsNameTheKeyPathAndIndex) {
  EXPECT_EQ(config_error("data:\n  sources:\n    - {paths: [a.txt], weight: 1}\n    - {paths: [b.txt], weight: x}\n"),
            "x.yaml:4:32: key 'data.sources[1].weight': expected a number, found 'x'");
  EXPECT_EQ(config_error("data:\n  sources:\n    - {paths: a.txt, weight: 1}\n"),
            "x.yaml:3:15: key 'data.sources[0].paths': expected a list of strings, found 'a.txt' "
            "(write a list: [a.txt])");
  EXPECT_EQ(config_error("data:\n  sources:\n    - a.txt\n"),
            "x.yaml:3:7: key 'data.sources[0]': expected a map with 'paths' and 'weight', found 'a.txt'");
  EXPECT_EQ(config_error("data:\n  sources: {paths: [a.txt]}\n"),
            "x.yaml:2:12: key 'data.sources': expected a list of sources ({paths: [...], weight: N} maps), "
            "found a map");
}

TEST(ConfigSources, RequiredAndUnknownKeys) {
  EXPECT_EQ(config_error("data:\n  sources:\n    - {paths: [a.txt]}\n"),
            "x.yaml:3:7: key 'data.sources[0]': missing 'weight' (a source needs its files and its weight, "
            "e.g. {paths: [corpus.txt], weight: 0.5})");
  EXPECT_EQ(config_error("data:\n  sources:\n    - {weight: 1}\n"),
            "x.yaml:3:7: key 'data.sources[0]': missing 'paths' (a source needs its files and its weight, "
            "e.g. {paths: [corpus.txt], weight: 0.5})");
  EXPECT_EQ(config_error("data:\n  sources:\n    - {paths: [a.txt], wieght: 1}\n"),
            "x.yaml:3:24: unknown key 'data.sources[0].wieght' (did you mean 'weight'?)");
  EXPECT_EQ(config_error("data:\n  sources:\n    - {paths: [a.txt], weight: 1, seq_len: 64}\n"),
            "x.yaml:3:35: unknown key 'data.sources[0].seq_len' ('data.seq_len' applies to the whole "
            "mixture: set it under 'data:')");
  EXPECT_EQ(config_error("data:\n  sources:\n    - {paths: [a.txt], weight: 1, zzz: 64}\n"),
            "x.yaml:3:35: unknown key 'data.sources[0].zzz' (a source takes: paths, format, weight, "
            "separator_line, chat_template, hdf5_dataset, hdf5_offsets)");
  EXPECT_EQ(config_error("data:\n  sources:\n    - {paths: [a.txt], weight: 1, weight: 2}\n"),
            "x.yaml:3:35: duplicate key 'data.sources[0].weight' (first defined at x.yaml:3:24)");
}

TEST(ConfigSources, ValuesAreCheckedWhereTheyWereSet) {
  EXPECT_EQ(config_error("data:\n  sources:\n    - {paths: [a.txt], weight: 1}\n    - {paths: [b.txt], weight: -2}\n"),
            "x.yaml:4:32: key 'data.sources[1].weight': -2.0 is out of range (must be > 0)");
  EXPECT_EQ(config_error("data:\n  sources:\n    - {paths: [], weight: 1}\n"),
            "x.yaml:3:15: key 'data.sources[0].paths': must list at least one file or glob");
  EXPECT_EQ(config_error("data:\n  sources:\n    - {paths: [a.txt], weight: 1, format: csv}\n"),
            "x.yaml:3:43: key 'data.sources[0].format': \"csv\" is not allowed (choose one of: text, jsonl, "
            "shards, hdf5)");
  EXPECT_EQ(config_error("data:\n  sources:\n    - {paths: [a.jsonl], weight: 1, format: jsonl, separator_line: x}\n"),
            "x.yaml:3:68: key 'data.sources[0].separator_line': applies to format text only; this "
            "source's format is jsonl");
  // The format a source inherits from data.format counts too.
  EXPECT_EQ(config_error("data:\n  format: jsonl\n  sources:\n    - {paths: [a.h5], weight: 1, hdf5_dataset: t}\n"),
            "x.yaml:4:48: key 'data.sources[0].hdf5_dataset': applies to format hdf5 only; this source's "
            "format is jsonl");
  EXPECT_EQ(config_error("data:\n  sources:\n    - {paths: [a.h5], weight: 1, format: hdf5, hdf5_dataset: \"\"}\n"),
            "x.yaml:3:62: key 'data.sources[0].hdf5_dataset': must not be empty for an hdf5 source (the "
            "token dataset's name)");
}

TEST(ConfigSources, AreExclusiveWithDataPaths) {
  EXPECT_EQ(config_error("data:\n  paths: [a.txt]\n  sources: [{paths: [b.txt], weight: 1}]\n"),
            "x.yaml:3:12: 'data.sources' and 'data.paths' are mutually exclusive: list each dataset's files "
            "under its source's 'paths' (to replace 'data.paths' by an override, also give data.paths=[])");
  EXPECT_EQ(config_error("name: x\n"),
            "x.yaml: missing required key 'data.paths' (the training files or globs, e.g. 'data: {paths: "
            "[corpus.txt]}'), or 'data.sources' for a mixture of datasets");
  EXPECT_EQ(config_error("data: {sources: []}\n"), "x.yaml: key 'data.paths': must list at least one file or glob");
}

}  // namespace
}  // namespace bitnet
