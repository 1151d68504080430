// The run's data side: a JSONL chat file through prepare_run_data gives batches in which the
// assistant's tokens and its end-of-turn token are targets and every prompt token is not
// (padded and packed rows alike), and packed rows carry document ids; a 2-D HDF5 input_ids
// dataset trains as documents packed with EOS.
#include <gtest/gtest.h>
#include <hdf5.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "data/batches.h"
#include "data/byte_tokenizer.h"
#include "trainer/config.h"
#include "trainer/run_data.h"

namespace bitnet {
namespace {

std::string write_chat_file() {
  const std::string p =
      (std::filesystem::temp_directory_path() / ("bitnet_run_data_" + std::to_string(::getpid()) + ".jsonl")).string();
  std::ofstream out(p);
  for (int i = 0; i < 6; ++i) {  // user text is only 'q', assistant text only 'A'
    out << R"({"messages": [{"role": "user", "content": "qqq"}, {"role": "assistant", "content": "AA"}]})"
        << "\n";
  }
  return p;
}

RunConfig chat_config(const std::string& path, const std::string& layout) {
  return parse_config("data:\n  format: jsonl\n  paths: [" + path +
                          "]\n  seq_len: 64\n  val_fraction: 0\n"
                          "  sft_layout: " +
                          layout + "\n",
                      "test.yaml");
}

TEST(RunDataFineTuning, AssistantAndEndOfTurnAreTargetsPromptIsNot) {
  const std::string path = write_chat_file();
  data::ByteTokenizer tok;
  // Generic template: BOS "<|user|>\n" "qqq" EOS "<|assistant|>\n" "AA" EOS (31 byte tokens);
  // trained: A, A, EOS.
  for (const std::string layout : {"pad", "pack"}) {
    RunData d = prepare_run_data(chat_config(path, layout), 0, 1);
    ASSERT_TRUE(d.fine_tuning);
    const data::Batch b = d.train->next(2);
    std::multiset<int32_t> targets;
    for (int32_t t : b.targets)
      if (t != data::kIgnoreIndex) targets.insert(t);
    // 31 tokens, 30 positions each: pad puts one per row, pack two per 64-position row.
    const int64_t rows_examples = layout == "pad" ? 2 : 4;
    EXPECT_EQ(targets.count('A'), static_cast<size_t>(2 * rows_examples)) << layout;
    EXPECT_EQ(targets.count(tok.eos_id()), static_cast<size_t>(rows_examples)) << layout << ": end of turn";
    EXPECT_EQ(targets.size(), static_cast<size_t>(3 * rows_examples)) << layout << ": nothing else";
    EXPECT_EQ(targets.count('q'), 0u) << layout;
    EXPECT_EQ(b.num_targets, static_cast<int64_t>(targets.size()));
    // Each target EOS directly follows the assistant's last 'A' in the inputs.
    for (size_t i = 0; i < b.targets.size(); ++i) {
      if (b.targets[i] == tok.eos_id()) {
        EXPECT_EQ(b.inputs[i], 'A');
      }
    }
    EXPECT_EQ(b.doc_ids.empty(), layout == "pad");
  }
  std::filesystem::remove(path);
}

TEST(RunDataHdf5, RowsArePackedWithEos) {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("bitnet_run_data_" + std::to_string(::getpid()) + ".h5")).string();
  hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  const hsize_t dims[2] = {4, 3};
  const std::vector<int32_t> ids = {10, 11, 12, 20, 21, 22, 30, 31, 32, 40, 41, 42};
  hid_t space = H5Screate_simple(2, dims, nullptr);
  hid_t ds = H5Dcreate2(f, "input_ids", H5T_NATIVE_INT32, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Dwrite(ds, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, ids.data());
  H5Dclose(ds);
  H5Sclose(space);
  H5Fclose(f);
  RunData d = prepare_run_data(
      parse_config("data:\n  format: hdf5\n  paths: [" + path + "]\n  seq_len: 4\n  val_fraction: 0\n", "t.yaml"), 0,
      1);
  EXPECT_FALSE(d.fine_tuning);
  EXPECT_EQ(d.train_documents, 4);
  EXPECT_EQ(d.train_tokens, 16);  // 4 rows of 3 tokens, each followed by EOS
  // Windows of 5 tokens with stride 4 over "10 11 12 E 20 21 22 E ...": each window starts at a
  // row's first token, so every batch row's inputs are (x0, x0+1, x0+2, EOS).
  const int32_t eos = d.tokenizer->eos_id();
  const data::Batch b = d.train->next(3);
  for (int64_t r = 0; r < 3; ++r) {
    const int32_t x0 = b.inputs[r * 4];
    EXPECT_EQ(x0 % 10, 0);
    EXPECT_EQ(b.inputs[r * 4 + 1], x0 + 1);
    EXPECT_EQ(b.inputs[r * 4 + 3], eos);
    EXPECT_EQ(b.targets[r * 4 + 3], x0 + 10);  // the next row's first token
  }
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace bitnet
