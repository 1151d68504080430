// Streaming pre-training shards: train and eval batches over the streamed corpus equal those over
// the in-memory one (load_token_dataset → split → PackedTokens) batch for batch over several
// epochs and ranks, resume from a cursor exactly, and malformed shards are refused: headers and
// offsets when the corpus opens, a token outside the vocabulary when a batch reaches it.
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "data/batches.h"
#include "data/byte_tokenizer.h"
#include "data/error.h"
#include "data/packing.h"
#include "data/rng.h"
#include "data/shard_stream.h"
#include "data/split.h"
#include "data/token_dataset.h"
#include "formats/token_shard.h"
#include "tests/support/temp_dir.h"

namespace bitnet::data {
namespace {

using testing::TempDir;

constexpr double kValFraction = 0.2;
constexpr uint64_t kSeed = 11;

// An empty shard of the byte tokenizer (its vocab size and fingerprint).
formats::TokenShard byte_shard(const Tokenizer& tok) {
  formats::TokenShard s;
  s.vocab_size = static_cast<uint64_t>(tok.vocab_size());
  s.tokenizer_fingerprint = tokenizer_fingerprint(tok);
  return s;
}

// Three shards of random documents (lengths 0..30, byte tokens), the second also holding one
// document of 150 tokens, so windows cross documents, shards and whole windows lie inside one
// document.
std::vector<std::string> write_shards(const TempDir& dir, const Tokenizer& tok) {
  SplitMix64 rng(3);
  std::vector<std::string> files;
  for (int f = 0; f < 3; ++f) {
    formats::TokenShard s = byte_shard(tok);
    const int docs = 12 + 5 * f;
    for (int d = 0; d < docs; ++d) {
      const uint64_t length = f == 1 && d == 4 ? 150 : rng.uniform(31);
      for (uint64_t i = 0; i < length; ++i) s.tokens.push_back(static_cast<uint32_t>(32 + rng.uniform(90)));
      s.offsets.push_back(s.tokens.size());
    }
    files.push_back(dir.path("part-" + std::to_string(f) + ".bts"));
    formats::write_token_shard(files.back(), s);
  }
  return files;
}

// The in-memory path of trainer/run_data.cpp: documents picked by the split, packed with EOS.
PackedTokens packed_in_memory(const std::vector<std::string>& files, const Tokenizer& tok,
                              const std::vector<int64_t>& ids) {
  DatasetOptions o;
  o.format = DataFormat::kShards;
  o.paths = files;
  const TokenDataset ds = load_token_dataset(o, tok);
  std::vector<std::vector<int32_t>> docs;
  for (int64_t i : ids) docs.push_back(ds.items[static_cast<size_t>(i)].tokens);
  return PackedTokens(docs, tok.eos_id());
}

void expect_same_batch(const Batch& a, const Batch& b, const std::string& where) {
  EXPECT_EQ(a.batch_size, b.batch_size) << where;
  EXPECT_EQ(a.seq_len, b.seq_len) << where;
  EXPECT_EQ(a.inputs, b.inputs) << where;
  EXPECT_EQ(a.targets, b.targets) << where;
  EXPECT_EQ(a.num_targets, b.num_targets) << where;
  EXPECT_EQ(a.doc_ids, b.doc_ids) << where;
}

class ShardStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    files_ = write_shards(dir_, tok_);
    corpus_ = std::make_shared<const ShardCorpus>(files_, tok_);
    split_ = split_documents(corpus_->num_documents(), kValFraction, kSeed);
  }
  std::shared_ptr<const StreamedPackedTokens> streamed(const std::vector<int64_t>& documents) const {
    return std::make_shared<const StreamedPackedTokens>(corpus_, documents, tok_.eos_id());
  }
  TempDir dir_;
  ByteTokenizer tok_;
  std::vector<std::string> files_;
  std::shared_ptr<const ShardCorpus> corpus_;
  DocumentSplit split_;
};

TEST_F(ShardStreamTest, PackedStreamHoldsTheInMemoryTokens) {
  ASSERT_EQ(corpus_->num_documents(), 12 + 17 + 22);
  ASSERT_FALSE(corpus_->masked());
  const PackedTokens memory = packed_in_memory(files_, tok_, split_.train);
  const StreamedPackedTokens packed(corpus_, split_.train, tok_.eos_id());
  ASSERT_EQ(packed.size(), memory.size());
  ASSERT_EQ(packed.num_documents(), memory.num_documents());
  std::vector<int32_t> all(static_cast<size_t>(packed.size()));
  packed.read(0, packed.size(), all.data());
  EXPECT_EQ(all, memory.tokens());
  // Every range, wherever it starts and ends (inside a document, on an EOS, across shards).
  for (int64_t begin = 0; begin < memory.size(); begin += 7) {
    for (int64_t count : {int64_t{0}, int64_t{1}, int64_t{33}, int64_t{170}}) {
      if (begin + count > memory.size()) continue;
      std::vector<int32_t> part(static_cast<size_t>(count));
      packed.read(begin, count, part.data());
      EXPECT_TRUE(std::equal(part.begin(), part.end(), memory.tokens().begin() + begin))
          << "tokens [" << begin << ", " << begin + count << ")";
    }
  }
  EXPECT_THROW(packed.read(memory.size() - 1, 2, all.data()), DataError);
}

TEST_F(ShardStreamTest, TrainWindowsEqualTheInMemoryOnesOverEpochsAndRanks) {
  const PackedTokens memory = packed_in_memory(files_, tok_, split_.train);
  for (int64_t seq_len : {int64_t{7}, int64_t{40}}) {
    // A window of 40 crosses several documents; the first document of the second and third
    // shards starts inside a window (positions up to windows * seq_len are covered).
    const StreamedPackedTokens probe(corpus_, split_.train, tok_.eos_id());
    ASSERT_GT(probe.num_windows(seq_len), 5);
    for (int64_t count : {int64_t{1}, int64_t{2}, int64_t{3}}) {
      for (int64_t rank = 0; rank < count; ++rank) {
        TrainBatches in_memory(memory, seq_len, kSeed, rank, count);
        TrainBatches streamed(this->streamed(split_.train), seq_len, kSeed, rank, count);
        ASSERT_EQ(streamed.num_windows(), in_memory.num_windows());
        const int64_t micro_batch = 3;
        const int64_t steps = 3 * in_memory.windows_per_epoch() / micro_batch + 2;  // past 3 epochs
        for (int64_t s = 0; s < steps; ++s) {
          const std::string where = "seq_len " + std::to_string(seq_len) + ", rank " + std::to_string(rank) + "/" +
                                    std::to_string(count) + ", step " + std::to_string(s);
          expect_same_batch(streamed.next(micro_batch), in_memory.next(micro_batch), where);
          EXPECT_EQ(streamed.cursor().epoch, in_memory.cursor().epoch) << where;
          EXPECT_EQ(streamed.cursor().position, in_memory.cursor().position) << where;
        }
        EXPECT_GE(in_memory.cursor().epoch, 3);
      }
    }
  }
}

TEST_F(ShardStreamTest, ACursorRestoresTheStreamExactly) {
  const int64_t seq_len = 16;
  for (int64_t rank = 0; rank < 2; ++rank) {
    TrainBatches in_memory(packed_in_memory(files_, tok_, split_.train), seq_len, kSeed, rank, 2);
    TrainBatches first(streamed(split_.train), seq_len, kSeed, rank, 2);
    for (int s = 0; s < 9; ++s) {
      in_memory.next(2);
      first.next(2);
    }
    // A new stream (as after a restart) restored from the saved cursor continues the old one.
    TrainBatches resumed(streamed(split_.train), seq_len, kSeed, rank, 2);
    resumed.restore(first.cursor());
    for (int s = 0; s < 20; ++s) {
      expect_same_batch(resumed.next(2), in_memory.next(2),
                        "rank " + std::to_string(rank) + " step " + std::to_string(s));
    }
    EXPECT_THROW(resumed.restore({0, resumed.num_windows()}), DataError);
  }
}

TEST_F(ShardStreamTest, EvalBatchesAndBitsPerByteEqualTheInMemoryOnes) {
  const PackedTokens memory = packed_in_memory(files_, tok_, split_.val);
  const auto val = streamed(split_.val);
  for (int64_t seq_len : {int64_t{5}, int64_t{16}}) {
    const EvalBatches in_memory(memory, seq_len);
    const EvalBatches streamed(val, seq_len);
    ASSERT_EQ(streamed.num_windows(), in_memory.num_windows());
    const std::vector<Batch> a = streamed.first(100, 4), b = in_memory.first(100, 4);
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) expect_same_batch(a[i], b[i], "eval batch " + std::to_string(i));
  }
  // Bytes per target as trainer/run_data.cpp computes it from documents held in memory.
  size_t bytes = 0, targets = 0;
  DatasetOptions o;
  o.format = DataFormat::kShards;
  o.paths = files_;
  const TokenDataset ds = load_token_dataset(o, tok_);
  for (int64_t i : split_.val) {
    bytes += tok_.decode(ds.items[static_cast<size_t>(i)].tokens).size();
    targets += ds.items[static_cast<size_t>(i)].tokens.size() + 1;
  }
  EXPECT_EQ(streamed_bytes_per_target(*val, tok_), double(bytes) / double(targets));
  // Too small a validation set is named as such.
  try {
    EvalBatches(val, val->size());
    FAIL();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("validation set"), std::string::npos) << e.what();
  }
}

// Overwrites 4 bytes of a file at `offset` with a little-endian value.
void patch_u32(const std::string& path, uint64_t offset, uint32_t value) {
  std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
  f.seekp(static_cast<std::streamoff>(offset));
  const char bytes[4] = {char(value & 0xff), char((value >> 8) & 0xff), char((value >> 16) & 0xff),
                         char((value >> 24) & 0xff)};
  f.write(bytes, 4);
}

std::string open_error(const std::vector<std::string>& files, const Tokenizer& tok) {
  try {
    ShardCorpus corpus(files, tok);
  } catch (const DataError& e) {
    return e.what();
  }
  return "";
}

TEST(ShardStreamErrors, ATokenOutsideTheVocabularyIsFoundWhenABatchReadsIt) {
  TempDir dir;
  ByteTokenizer tok;
  formats::TokenShard s = byte_shard(tok);
  s.offsets = {0, 40, 100};
  s.tokens.assign(100, 65);
  const std::string path = dir.path("bad.bts");
  formats::write_token_shard(path, s);
  const uint64_t tokens_at = formats::kTokenShardHeaderBytes + 8 * 3;
  patch_u32(path, tokens_at + 4 * 70, 5000);  // token 70, in the second document
  // Opening reads no token: the corpus opens, and windows before the bad token read fine.
  auto corpus = std::make_shared<const ShardCorpus>(std::vector<std::string>{path}, tok);
  StreamedPackedTokens packed(corpus, {0, 1}, tok.eos_id());
  std::vector<int32_t> window(11);
  packed.read(0, 11, window.data());
  try {
    packed.read(65, 11, window.data());  // stream position 71 is token 70 (after document 0's EOS)
    FAIL();
  } catch (const DataError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find(path), std::string::npos) << m;
    EXPECT_NE(m.find("token 70 is outside the vocabulary"), std::string::npos) << m;
  }
}

TEST(ShardStreamErrors, HeadersAndOffsetsAreCheckedWhenTheCorpusOpens) {
  TempDir dir;
  ByteTokenizer tok;
  formats::TokenShard s = byte_shard(tok);
  s.offsets = {0, 3, 5};
  s.tokens = {1, 2, 3, 4, 5};
  const std::string path = dir.path("a.bts");
  auto rewrite = [&] { formats::write_token_shard(path, s); };

  rewrite();
  EXPECT_EQ(open_error({path}, tok), "");
  patch_u32(path, 0, 0x58585858);  // magic
  EXPECT_NE(open_error({path}, tok).find("bad magic"), std::string::npos);
  rewrite();
  patch_u32(path, formats::kTokenShardHeaderBytes + 8, 6);  // offsets[1] = 6 > offsets[2] = 5
  EXPECT_NE(open_error({path}, tok).find("document offset 1 is out of order"), std::string::npos);
  rewrite();
  patch_u32(path, formats::kTokenShardHeaderBytes + 16, 4);  // offsets[2] = 4, not N = 5
  EXPECT_NE(open_error({path}, tok).find("last document offset"), std::string::npos);
  rewrite();
  patch_u32(path, 24, 0xffffffff);  // N: 2^32 - 1 tokens, far beyond the file
  EXPECT_NE(open_error({path}, tok).find("file size does not match"), std::string::npos);
  rewrite();
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 4);  // truncated
  EXPECT_NE(open_error({path}, tok).find("file size does not match"), std::string::npos);
  rewrite();
  patch_u32(path, 40, 12345);  // another tokenizer's fingerprint
  EXPECT_NE(open_error({path}, tok).find("another tokenizer"), std::string::npos);
  EXPECT_NE(open_error({dir.path("missing.bts")}, tok).find("cannot open"), std::string::npos);

  rewrite();
  formats::TokenShard masked = s;
  masked.mask = {0, 1, 1, 1, 1};
  masked.masked = true;
  formats::write_token_shard(dir.path("b.bts"), masked);
  EXPECT_TRUE(ShardCorpus({dir.path("b.bts")}, tok).masked());
  EXPECT_NE(open_error({path, dir.path("b.bts")}, tok).find("mixes fine-tuning shards"), std::string::npos);
}

}  // namespace
}  // namespace bitnet::data
