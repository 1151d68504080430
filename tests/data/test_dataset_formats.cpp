// Dataset formats through load_token_dataset: HDF5 files written here with the HDF5 C API
// (1-D + offsets, 1-D cut at EOS, 2-D rows, and every invalid layout), token shards with the
// right and a wrong tokenizer, text and JSONL with their masks.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <filesystem>

#include "data/byte_tokenizer.h"
#include "data/error.h"
#include "data/token_dataset.h"
#include "formats/token_shard.h"
#include "tests/support/temp_dir.h"

namespace bitnet::data {
namespace {

using testing::TempDir;

// Writes dataset `name` with the given dims and values, in HDF5 type `type`.
template <typename T>
void write_dataset(hid_t file, const std::string& name, std::vector<hsize_t> dims, const std::vector<T>& values,
                   hid_t type) {
  hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
  hid_t ds = H5Dcreate2(file, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
  H5Dclose(ds);
  H5Sclose(space);
}

std::vector<std::vector<int32_t>> tokens_of(const TokenDataset& d) {
  std::vector<std::vector<int32_t>> out;
  for (const auto& m : d.items) out.push_back(m.tokens);
  return out;
}

class Hdf5Dataset : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.path("t.h5");
    hid_t f = H5Fcreate(path_.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    const int32_t eos = tok_.eos_id();
    // 1-D uint16 stream: "ab" EOS "c" EOS EOS "de" (EOS-separated documents)
    write_dataset<uint16_t>(f, "stream", {8}, {97, 98, uint16_t(eos), 99, uint16_t(eos), uint16_t(eos), 100, 101},
                            H5T_NATIVE_UINT16);
    write_dataset<int64_t>(f, "offsets", {3}, {0, 2, 5}, H5T_NATIVE_INT64);
    write_dataset<int64_t>(f, "offsets_with_end", {4}, {0, 2, 5, 8}, H5T_NATIVE_INT64);
    write_dataset<int64_t>(f, "offsets_bad", {3}, {0, 5, 2}, H5T_NATIVE_INT64);
    write_dataset<int64_t>(f, "offsets_start", {2}, {1, 5}, H5T_NATIVE_INT64);
    write_dataset<int32_t>(f, "input_ids", {2, 3}, {65, 66, 67, 68, 69, 70}, H5T_NATIVE_INT32);
    write_dataset<float>(f, "floats", {2}, {1.0f, 2.0f}, H5T_NATIVE_FLOAT);
    write_dataset<int32_t>(f, "cube", {1, 1, 2}, {1, 2}, H5T_NATIVE_INT32);
    write_dataset<int32_t>(f, "too_big_id", {2}, {1, 100000}, H5T_NATIVE_INT32);
    write_dataset<int32_t>(f, "negative", {2}, {1, -1}, H5T_NATIVE_INT32);
    {  // declared 2^30 elements, chunked, nothing written: no storage behind the extent
      const hsize_t dims[1] = {hsize_t(1) << 30}, chunk[1] = {1024};
      hid_t space = H5Screate_simple(1, dims, nullptr);
      hid_t plist = H5Pcreate(H5P_DATASET_CREATE);
      H5Pset_chunk(plist, 1, chunk);
      hid_t ds = H5Dcreate2(f, "hollow", H5T_NATIVE_INT32, space, H5P_DEFAULT, plist, H5P_DEFAULT);
      H5Dclose(ds);
      H5Pclose(plist);
      H5Sclose(space);
    }
    H5Fclose(f);
  }
  TokenDataset load(const std::string& dataset, const std::string& offsets = "") {
    DatasetOptions o;
    o.format = DataFormat::kHdf5;
    o.paths = {path_};
    o.hdf5_dataset = dataset;
    o.hdf5_offsets = offsets;
    return load_token_dataset(o, tok_);
  }
  std::string error(const std::string& dataset, const std::string& offsets = "") {
    try {
      load(dataset, offsets);
    } catch (const DataError& e) {
      return e.what();
    }
    return "no error";
  }
  TempDir dir_;
  ByteTokenizer tok_;
  std::string path_;
};

TEST_F(Hdf5Dataset, OneDimensionalWithOffsets) {
  const int32_t e = tok_.eos_id();
  using V = std::vector<std::vector<int32_t>>;
  EXPECT_EQ(tokens_of(load("stream", "offsets")), (V{{97, 98}, {e, 99, e}, {e, 100, 101}}));
  EXPECT_EQ(tokens_of(load("stream", "offsets_with_end")), (V{{97, 98}, {e, 99, e}, {e, 100, 101}}));
  EXPECT_FALSE(load("stream", "offsets").masked);
}

TEST_F(Hdf5Dataset, OneDimensionalCutAtEos) {
  using V = std::vector<std::vector<int32_t>>;
  EXPECT_EQ(tokens_of(load("stream")), (V{{97, 98}, {99}, {100, 101}}));
}

TEST_F(Hdf5Dataset, TwoDimensionalRows) {
  using V = std::vector<std::vector<int32_t>>;
  EXPECT_EQ(tokens_of(load("input_ids")), (V{{65, 66, 67}, {68, 69, 70}}));
  EXPECT_NE(error("input_ids", "offsets").find("2-D"), std::string::npos);
}

// Found by fuzzing: a 2 KB file whose contiguous dataset claims 4 GB (536M int64 elements, and the
// storage size HDF5 reports for a contiguous layout is the declared one) made the reader allocate
// 4 GB before reading. Claims are now held against the file's real size.
TEST_F(Hdf5Dataset, AnExtentBeyondTheFileIsRefusedBeforeAllocating) {
  DatasetOptions o;
  o.format = DataFormat::kHdf5;
  o.paths = {std::string(BITNET_SOURCE_DIR) + "/fuzz/corpus/hdf5_tokens/regression-extent-beyond-file"};
  o.hdf5_dataset = "input_ids";  // the dataset that claims 4 GB
  try {
    load_token_dataset(o, tok_);
    FAIL() << "the file was accepted";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("but the file is only 2100 bytes"), std::string::npos) << e.what();
  }
}

// Found by fuzzing: this file makes libhdf5 itself read through a null pointer inside H5Lexists.
// The file is read in a child process, so the crash is a DataError naming the file.
TEST_F(Hdf5Dataset, ACrashInsideLibhdf5IsAnErrorNotTheEndOfTheRun) {
  DatasetOptions o;
  o.format = DataFormat::kHdf5;
  const std::string path = std::string(BITNET_SOURCE_DIR) + "/fuzz/corpus/hdf5_tokens/regression-libhdf5-segv";
  o.paths = {path};
  for (const char* dataset : {"tokens", "input_ids"}) {
    o.hdf5_dataset = dataset;
    try {
      load_token_dataset(o, tok_);
      FAIL() << "the file was accepted";
    } catch (const DataError& e) {
      EXPECT_NE(std::string(e.what()).find(path + ": "), std::string::npos) << e.what();
    }
  }
}

TEST_F(Hdf5Dataset, InvalidLayoutsNameTheFileAndDataset) {
  EXPECT_NE(error("missing").find("'missing' does not exist"), std::string::npos);
  EXPECT_NE(error("floats").find("must hold integers"), std::string::npos);
  EXPECT_NE(error("cube").find("rank 3"), std::string::npos);
  EXPECT_NE(error("too_big_id").find("outside the tokenizer's vocabulary"), std::string::npos);
  EXPECT_NE(error("negative").find("is -1"), std::string::npos);
  EXPECT_NE(error("hollow").find("but the file stores 0 bytes"), std::string::npos);
  EXPECT_NE(error("stream", "offsets_bad").find("ascend"), std::string::npos);
  EXPECT_NE(error("stream", "offsets_start").find("start at 0"), std::string::npos);
  EXPECT_NE(error("stream", "input_ids").find("rank 2"), std::string::npos);
  const std::string not_h5 = dir_.write("x.h5", "plain text");
  DatasetOptions o;
  o.format = DataFormat::kHdf5;
  o.paths = {not_h5};
  try {
    load_token_dataset(o, tok_);
    FAIL();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("not a readable HDF5 file"), std::string::npos);
  }
}

TEST(ShardDataset, ReadsDocumentsAndMasksAndRefusesAnotherTokenizer) {
  TempDir dir;
  ByteTokenizer tok;
  formats::TokenShard s;
  s.vocab_size = static_cast<uint64_t>(tok.vocab_size());
  s.tokenizer_fingerprint = tokenizer_fingerprint(tok);
  s.offsets = {0, 2, 3};
  s.tokens = {1, 2, 3};
  s.mask = {0, 1, 1};
  s.masked = true;
  formats::write_token_shard(dir.path("a.bts"), s);
  DatasetOptions o;
  o.format = DataFormat::kShards;
  o.paths = {dir.path()};  // a directory: its *.bts files
  const TokenDataset d = load_token_dataset(o, tok);
  ASSERT_TRUE(d.masked);
  ASSERT_EQ(d.items.size(), 2u);
  EXPECT_EQ(d.items[0].tokens, (std::vector<int32_t>{1, 2}));
  EXPECT_EQ(d.items[0].trained, (std::vector<uint8_t>{0, 1}));
  EXPECT_EQ(d.items[1].trained, (std::vector<uint8_t>{1}));

  // An empty fine-tuning shard beside it is still a fine-tuning shard, not a text one.
  formats::TokenShard empty_masked;
  empty_masked.vocab_size = s.vocab_size;
  empty_masked.tokenizer_fingerprint = s.tokenizer_fingerprint;
  empty_masked.masked = true;
  formats::write_token_shard(dir.path("z.bts"), empty_masked);
  EXPECT_EQ(load_token_dataset(o, tok).items.size(), 2u);
  std::filesystem::remove(dir.path("z.bts"));

  s.tokenizer_fingerprint ^= 1;
  formats::write_token_shard(dir.path("a.bts"), s);
  try {
    load_token_dataset(o, tok);
    FAIL();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("another tokenizer"), std::string::npos);
  }
  s.tokenizer_fingerprint ^= 1;
  s.mask.clear();
  s.masked = false;
  formats::write_token_shard(dir.path("a.bts"), s);
  formats::TokenShard masked = s;
  masked.mask = {1, 1, 1};
  masked.masked = true;
  formats::write_token_shard(dir.path("b.bts"), masked);
  EXPECT_THROW(load_token_dataset(o, tok), DataError);  // text and fine-tuning shards mixed
}

TEST(Fingerprint, DependsOnTheVocabularyAndSpecials) {
  ByteTokenizer a, b;
  EXPECT_EQ(tokenizer_fingerprint(a), tokenizer_fingerprint(b));
  EXPECT_NE(tokenizer_fingerprint(a), 0u);
}

TEST(JsonlDataset, PromptCompletionIsMaskedAndTextIsNot) {
  TempDir dir;
  ByteTokenizer tok;
  const std::string p = dir.write("a.jsonl", "{\"prompt\": \"ab\", \"completion\": \"c\"}\n");
  DatasetOptions o;
  o.format = DataFormat::kJsonl;
  o.paths = {p};
  const TokenDataset d = load_token_dataset(o, tok);
  ASSERT_TRUE(d.masked);
  ASSERT_EQ(d.items.size(), 1u);
  // prompt 'a' 'b' untrained, completion 'c' and EOS trained
  EXPECT_EQ(d.items[0].tokens, (std::vector<int32_t>{97, 98, 99, tok.eos_id()}));
  EXPECT_EQ(d.items[0].trained, (std::vector<uint8_t>{0, 0, 1, 1}));
  o.format = DataFormat::kText;
  o.paths = {dir.write("a.txt", "xy\n%\nz\n")};
  const TokenDataset t = load_token_dataset(o, tok);
  EXPECT_FALSE(t.masked);
  EXPECT_EQ(tokens_of(t), (std::vector<std::vector<int32_t>>{{120, 121}, {122}}));
}

}  // namespace
}  // namespace bitnet::data
