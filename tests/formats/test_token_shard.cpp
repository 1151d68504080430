// Token shards: a file built byte by byte from the documented layout reads back; write → read
// round-trips; every damaged header or body is refused with a message naming what is wrong.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "formats/error.h"
#include "formats/token_shard.h"

namespace bitnet::formats {
namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("bitnet_shard_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

void put(std::string& s, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// Two documents [5, 6] and [7], vocab 10, fingerprint 0x1122, with or without a mask.
std::string hand_made(bool mask) {
  std::string s = "BNTSHRD1";
  put(s, 1, 4);             // version
  put(s, mask ? 1 : 0, 4);  // flags
  put(s, 2, 8);             // D
  put(s, 3, 8);             // N
  put(s, 10, 8);            // vocab
  put(s, 0x1122, 8);        // fingerprint
  put(s, 0, 8);
  put(s, 2, 8);
  put(s, 3, 8);  // offsets
  put(s, 5, 4);
  put(s, 6, 4);
  put(s, 7, 4);  // tokens
  if (mask) s += std::string("\x00\x01\x01", 3);
  return s;
}

std::string write_bytes(const std::string& name, const std::string& bytes) {
  const std::string p = temp_path(name);
  std::ofstream(p, std::ios::binary) << bytes;
  return p;
}

std::string error_of(const std::string& bytes) {
  const std::string p = write_bytes("bad.bts", bytes);
  try {
    read_token_shard(p);
  } catch (const FormatError& e) {
    std::filesystem::remove(p);
    return e.what();
  }
  std::filesystem::remove(p);
  return "no error";
}

TEST(TokenShard, HandMadeFileReads) {
  for (bool mask : {false, true}) {
    const std::string bytes = hand_made(mask);
    EXPECT_EQ(bytes.size(), 48u + 8 * 3 + 4 * 3 + (mask ? 3 : 0));  // the documented size formula
    const std::string p = write_bytes("hand.bts", bytes);
    const TokenShard s = read_token_shard(p);
    std::filesystem::remove(p);
    EXPECT_EQ(s.num_documents(), 2u);
    EXPECT_EQ(s.offsets, (std::vector<uint64_t>{0, 2, 3}));
    EXPECT_EQ(s.tokens, (std::vector<uint32_t>{5, 6, 7}));
    EXPECT_EQ(s.vocab_size, 10u);
    EXPECT_EQ(s.tokenizer_fingerprint, 0x1122u);
    EXPECT_EQ(s.mask, (mask ? std::vector<uint8_t>{0, 1, 1} : std::vector<uint8_t>{}));
  }
}

TEST(TokenShard, WriterProducesTheDocumentedBytes) {
  TokenShard s;
  s.vocab_size = 10;
  s.tokenizer_fingerprint = 0x1122;
  s.offsets = {0, 2, 3};
  s.tokens = {5, 6, 7};
  s.mask = {0, 1, 1};
  s.masked = true;
  const std::string p = temp_path("w.bts");
  write_token_shard(p, s);
  std::ifstream in(p, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::filesystem::remove(p);
  EXPECT_EQ(bytes, hand_made(true));
}

TEST(TokenShard, EmptyShardRoundTrips) {
  TokenShard s;
  s.vocab_size = 3;
  const std::string p = temp_path("empty.bts");
  write_token_shard(p, s);
  const TokenShard r = read_token_shard(p);
  std::filesystem::remove(p);
  EXPECT_EQ(r.num_documents(), 0u);
  EXPECT_TRUE(r.tokens.empty());
  EXPECT_FALSE(r.masked);
}

// A fine-tuning shard without tokens keeps its flag: it has no mask entries but is not a text shard.
TEST(TokenShard, EmptyMaskedShardStaysMasked) {
  TokenShard s;
  s.vocab_size = 3;
  s.masked = true;
  const std::string p = temp_path("empty-masked.bts");
  write_token_shard(p, s);
  const TokenShard r = read_token_shard(p);
  const TokenShardIndex index = read_token_shard_index(ReadOnlyFile(p));
  std::filesystem::remove(p);
  EXPECT_TRUE(r.masked);
  EXPECT_TRUE(r.mask.empty());
  EXPECT_TRUE(index.masked);
}

TEST(TokenShard, DamagedFilesAreRefused) {
  const std::string good = hand_made(true);
  EXPECT_NE(error_of(good.substr(0, 20)).find("too small"), std::string::npos);
  std::string magic = good;
  magic[0] = 'X';
  EXPECT_NE(error_of(magic).find("bad magic"), std::string::npos);
  std::string version = good;
  version[8] = 2;
  EXPECT_NE(error_of(version).find("version"), std::string::npos);
  std::string flags = good;
  flags[12] = 4;
  EXPECT_NE(error_of(flags).find("flag"), std::string::npos);
  EXPECT_NE(error_of(good.substr(0, good.size() - 1)).find("file size"), std::string::npos);
  EXPECT_NE(error_of(good + "x").find("file size"), std::string::npos);
  std::string huge = good;  // D = 2^64 - 1: the size arithmetic overflows, nothing is allocated
  for (int i = 16; i < 24; ++i) huge[i] = '\xff';
  EXPECT_NE(error_of(huge).find("file size"), std::string::npos);
  std::string order = good;  // offsets[1] = 4 > N
  order[48 + 8] = 4;
  EXPECT_NE(error_of(order).find("out of order"), std::string::npos);
  std::string first = good;  // offsets[0] = 1
  first[48] = 1;
  EXPECT_NE(error_of(first).find("first document offset"), std::string::npos);
  std::string last = good;  // offsets[2] = 2 != N
  last[48 + 16] = 2;
  EXPECT_NE(error_of(last).find("last document offset"), std::string::npos);
  std::string token = good;  // token 0 = 10 >= vocab
  token[48 + 24] = 10;
  EXPECT_NE(error_of(token).find("outside the vocabulary"), std::string::npos);
  std::string mask = good;
  mask[mask.size() - 1] = 2;
  EXPECT_NE(error_of(mask).find("not 0 or 1"), std::string::npos);
}

TEST(TokenShard, WriterRefusesInconsistentShards) {
  TokenShard s;
  s.vocab_size = 4;
  s.offsets = {0, 1};
  s.tokens = {9};
  EXPECT_THROW(write_token_shard(temp_path("x.bts"), s), FormatError);
  s.tokens = {1};
  s.mask = {1};  // a mask without the flag: refused, not written as a text shard
  EXPECT_THROW(write_token_shard(temp_path("x.bts"), s), FormatError);
  s.masked = true;
  s.mask = {1, 1};  // one entry too many
  EXPECT_THROW(write_token_shard(temp_path("x.bts"), s), FormatError);
  s.mask = {};  // masked, but no entries for its token
  EXPECT_THROW(write_token_shard(temp_path("x.bts"), s), FormatError);
  EXPECT_FALSE(std::filesystem::exists(temp_path("x.bts")));
}

}  // namespace
}  // namespace bitnet::formats
