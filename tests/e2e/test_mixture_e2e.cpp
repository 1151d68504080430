// Dataset mixtures (data.sources) end to end: `bitnet data check` prints the effective
// proportions, a run prints them in its start table and resumes bit for bit, and mixing
// documents with fine-tuning examples is refused naming the sources.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "tests/e2e/cli_runner.h"

namespace bitnet::e2e {
namespace {

namespace fs = std::filesystem;

const std::string kFortunes = "/usr/share/games/fortunes/computers.u8";
const std::string kDocs = std::string(BITNET_SOURCE_DIR) + "/docs/*.md";

// Two text sources, weighted 9:1: fortunes split at '%' lines, the project's docs at blank lines.
std::vector<std::string> mixture_overrides() {
  return {"data.paths=[]", "data.sources=[{paths: [\"" + kFortunes +
                               "\"], weight: 9}, "
                               "{paths: [\"" +
                               kDocs + "\"], weight: 1, separator_line: \"\"}]"};
}

struct Row {
  double weight = 0, share = 0, epochs = 0;
};

// The table row of source `index` ("[0] path  weight  tokens  share%  epochs  val"), read from
// the printed output.
Row table_row(const std::string& output, int index) {
  const std::string tag = "[" + std::to_string(index) + "] ";
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) {
    const size_t at = line.find(tag);
    if (at == std::string::npos || line.find('%') == std::string::npos) continue;
    std::istringstream fields(line.substr(at + tag.size()));
    std::string path, tokens, share;
    Row row;
    fields >> path >> row.weight >> tokens >> share >> row.epochs;
    row.share = std::stod(share);
    return row;
  }
  ADD_FAILURE() << "no row " << tag << " in:\n" << output;
  return {};
}

TEST(MixtureE2E, DataCheckPrintsTheEffectiveProportions) {
  const std::string config = std::string(BITNET_SOURCE_DIR) + "/tests/e2e/tiny.yaml";
  RunResult r = run_bitnet(with({"data", "check", config}, mixture_overrides()));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("mixture of 2 sources"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("[0] " + kFortunes), std::string::npos) << r.output;
  const Row fortunes = table_row(r.output, 0), docs = table_row(r.output, 1);
  EXPECT_DOUBLE_EQ(fortunes.weight, 0.9);
  EXPECT_DOUBLE_EQ(docs.weight, 0.1);
  EXPECT_NEAR(fortunes.share, 90.0, 0.5) << r.output;
  EXPECT_NEAR(docs.share, 10.0, 0.5) << r.output;
  // ~240 KB of fortunes against ~100 KB of docs at 9:1: the fortunes are repeated, the docs sampled.
  EXPECT_GT(fortunes.epochs, 1.0) << r.output;
  EXPECT_LT(docs.epochs, 1.0) << r.output;
  EXPECT_NE(r.output.find("training set of the mixture"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("\nok\n"), std::string::npos) << r.output;

  // The same seed gives the same table.
  RunResult again = run_bitnet(with({"data", "check", config}, mixture_overrides()));
  EXPECT_EQ(table_row(again.output, 1).epochs, docs.epochs);
}

TEST(MixtureE2E, TrainingPrintsTheMixtureAndResumesBitForBit) {
  TempDir tmp("mixture");
  const std::vector<std::string> run = with(mixture_overrides(), {"train.steps=8", "sample.tokens=4"});
  RunResult straight = run_bitnet(with(tiny_run_args(tmp.path, "straight"), run));
  ASSERT_EQ(straight.exit_code, 0) << straight.output;
  EXPECT_NE(straight.output.find("mixture   2 sources"), std::string::npos) << straight.output;
  EXPECT_NEAR(table_row(straight.output, 0).share, 90.0, 0.5) << straight.output;

  RunResult first = run_bitnet(with(tiny_run_args(tmp.path, "split"), with(run, {"train.stop_after=4"})));
  ASSERT_EQ(first.exit_code, 0) << first.output;
  RunResult second = run_bitnet(with(tiny_run_args(tmp.path, "split"), with(run, {"resume=auto"})));
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_NE(second.output.find("resumed from"), std::string::npos) << second.output;
  expect_same_training(tmp.path / "straight", tmp.path / "split", 8);

  // Another weight is another run: resume refuses the changed config.
  std::vector<std::string> reweighted = mixture_overrides();
  reweighted[1].replace(reweighted[1].find("weight: 9"), 9, "weight: 8");
  RunResult changed = run_bitnet(
      with(tiny_run_args(tmp.path, "split"), with(reweighted, {"train.steps=8", "sample.tokens=4", "resume=auto"})));
  EXPECT_NE(changed.exit_code, 0) << changed.output;
  EXPECT_NE(changed.output.find("different config"), std::string::npos) << changed.output;
}

TEST(MixtureE2E, DocumentsAndFineTuningExamplesDoNotMix) {
  TempDir tmp("mixture_kinds");
  const fs::path chat = tmp.path / "chat.jsonl";
  std::ofstream(chat)
      << "{\"prompt\": \"2+2=\", \"completion\": \"4\"}\n{\"prompt\": \"1+1=\", \"completion\": \"2\"}\n";
  const std::string config = std::string(BITNET_SOURCE_DIR) + "/tests/e2e/tiny.yaml";
  RunResult r = run_bitnet({"data", "check", config, "data.paths=[]",
                            "data.sources=[{paths: [\"" + kFortunes +
                                "\"], weight: 1}, "
                                "{paths: [\"" +
                                chat.string() + "\"], format: jsonl, weight: 1}]"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("pre-training: [0] " + kFortunes), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("fine-tuning: [1] "), std::string::npos) << r.output;
}

}  // namespace
}  // namespace bitnet::e2e
