// A mixture run's data side (trainer/run_mixture.h): each source is read with its own format
// keys, prepare_run_data trains on the mixture and reports its proportions, fine-tuning sources
// mix too, and a source that fails to load is named by its index.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "data/error.h"
#include "trainer/config.h"
#include "trainer/run_data.h"
#include "trainer/run_mixture.h"

namespace bitnet {
namespace {

namespace fs = std::filesystem;

struct Files {
  fs::path dir = fs::temp_directory_path() / ("bitnet_run_mixture_" + std::to_string(::getpid()));
  Files() { fs::create_directories(dir); }
  ~Files() { fs::remove_all(dir); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(dir / name) << text;
    return (dir / name).string();
  }
};

// Six '%'-separated fortunes and four blank-line-separated paragraphs, 3:1.
RunConfig text_mixture(const Files& files) {
  std::string fortunes, paragraphs;
  for (int i = 0; i < 6; ++i) fortunes += "fortune number " + std::to_string(i) + " is here\n%\n";
  for (int i = 0; i < 4; ++i) paragraphs += "paragraph " + std::to_string(i) + "\nstill paragraph\n\n";
  const std::string a = files.write("a.txt", fortunes), b = files.write("b.md", paragraphs);
  return parse_config(
      "data:\n  separator_line: \"%\"\n  seq_len: 8\n  val_fraction: 0.25\n  sources:\n"
      "    - {paths: [\"" +
          a +
          "\"], weight: 3}\n"
          "    - {paths: [\"" +
          b + "\"], weight: 1, separator_line: \"\"}\n",
      "mix.yaml");
}

TEST(RunDataMixture, SourcesReadTheirOwnFormatKeys) {
  Files files;
  const RunConfig c = text_mixture(files);
  EXPECT_EQ(source_dataset_options(c, 0).separator_line, "%");
  EXPECT_EQ(source_dataset_options(c, 1).separator_line, "");
  EXPECT_EQ(source_dataset_options(c, 1).paths, c.data.sources[1].paths);
  EXPECT_EQ(source_label(c, 1), "[1] " + (files.dir / "b.md").string());

  RunData d = prepare_run_data(c, 0, 1);
  EXPECT_FALSE(d.fine_tuning);
  ASSERT_EQ(d.mixture.size(), 2u);
  EXPECT_EQ(d.mixture[0].documents + d.mixture[0].val_documents, 6);  // split at '%' lines
  EXPECT_EQ(d.mixture[1].documents + d.mixture[1].val_documents, 4);  // split at blank lines
  EXPECT_EQ(d.mixture[1].val_documents, 1);
  EXPECT_DOUBLE_EQ(d.mixture[0].weight, 0.75);
  EXPECT_EQ(d.train_tokens, d.mixture[0].mixed_tokens + d.mixture[1].mixed_tokens);
  EXPECT_EQ(d.val_tokens, d.mixture[0].val_tokens + d.mixture[1].val_tokens);
  EXPECT_EQ(d.val_documents, 3);  // 25% of 6, rounded half away from zero, and 1 of 4
  ASSERT_TRUE(d.val);
  EXPECT_EQ(d.train->next(2).inputs.size(), 16u);

  const std::vector<std::string> table = mixture_table(d.mixture);
  ASSERT_EQ(table.size(), 3u);
  EXPECT_NE(table[0].find("train tokens"), std::string::npos);
  EXPECT_EQ(table[2].rfind("[1] ", 0), 0u) << table[2];
  EXPECT_NE(table[1].find("0.750"), std::string::npos) << table[1];
}

TEST(RunDataMixture, FineTuningSourcesMixAsExamples) {
  Files files;
  const std::string line = R"({"prompt": "q", "completion": "A"})";
  const std::string a = files.write("a.jsonl", line + "\n" + line + "\n" + line + "\n");
  const std::string b = files.write("b.jsonl", line + "\n");
  const RunConfig c = parse_config(
      "data:\n  format: jsonl\n  seq_len: 16\n  val_fraction: 0\n  sources:\n"
      "    - {paths: [\"" +
          a +
          "\"], weight: 1}\n"
          "    - {paths: [\"" +
          b + "\"], weight: 1}\n",
      "mix.yaml");
  RunData d = prepare_run_data(c, 0, 1);
  EXPECT_TRUE(d.fine_tuning);
  EXPECT_EQ(d.jsonl.examples, 4);  // the sources' reports summed
  // Equal weights of four equal examples' tokens: two each, so the one-example source is
  // repeated twice and the three-example one sampled.
  EXPECT_EQ(d.mixture[1].mixed_documents, 2);
  EXPECT_DOUBLE_EQ(d.mixture[1].epochs(), 2.0);
  EXPECT_EQ(d.mixture[0].mixed_documents, 2);
  EXPECT_EQ(d.train_documents, 4);
  EXPECT_GT(d.train->next(1).num_targets, 0);
}

TEST(RunDataMixture, ALoadErrorNamesTheSource) {
  Files files;
  RunConfig c = text_mixture(files);
  c.data.sources[1].paths = {(files.dir / "missing.txt").string()};
  try {
    prepare_run_data(c, 0, 1);
    FAIL() << "no error";
  } catch (const data::DataError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("data.sources[1]: ", 0), 0u) << e.what();
    EXPECT_NE(std::string(e.what()).find("missing.txt"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace bitnet
