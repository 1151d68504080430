// Byte tokenizer: ids are the bytes, specials are skipped on decode, every byte string
// (invalid UTF-8 included) round-trips, and the factory names the allowed types.
#include <gtest/gtest.h>

#include "data/byte_tokenizer.h"
#include "data/error.h"

namespace bitnet::data {
namespace {

TEST(ByteTokenizer, EncodesBytesAsIds) {
  ByteTokenizer t;
  EXPECT_EQ(t.encode("Hi!"), (std::vector<int32_t>{72, 105, 33}));
  EXPECT_EQ(t.encode("\xc3\xa9"), (std::vector<int32_t>{0xC3, 0xA9}));  // é in UTF-8
  EXPECT_TRUE(t.encode("").empty());
  EXPECT_EQ(t.vocab_size(), 259);
  EXPECT_EQ(t.bos_id(), 256);
  EXPECT_EQ(t.eos_id(), 257);
  EXPECT_EQ(t.pad_id(), 258);
  EXPECT_EQ(t.type(), TokenizerType::kByte);
}

TEST(ByteTokenizer, RoundTripsEveryByteIncludingInvalidUtf8) {
  ByteTokenizer t;
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  EXPECT_EQ(t.decode(t.encode(all)), all);
  const std::string invalid("\xff\xfe\xc3(\x80 a\0b", 9);
  EXPECT_EQ(t.decode(t.encode(invalid)), invalid);
}

TEST(ByteTokenizer, DecodeSkipsSpecialsAndRejectsUnknownIds) {
  ByteTokenizer t;
  EXPECT_EQ(t.decode({256, 72, 257, 105, 258, 258}), "Hi");
  EXPECT_THROW(t.decode({72, 259}), DataError);
  EXPECT_THROW(t.decode({-1}), DataError);
}

TEST(ByteTokenizer, TokenTextIsPrintable) {
  ByteTokenizer t;
  EXPECT_EQ(t.token_text('a'), "a");
  EXPECT_EQ(t.token_text(' '), "<0x20>");
  EXPECT_EQ(t.token_text(10), "<0x0A>");
  EXPECT_EQ(t.token_text(255), "<0xFF>");
  EXPECT_EQ(t.token_text(256), "<bos>");
  EXPECT_EQ(t.token_text(257), "<eos>");
  EXPECT_EQ(t.token_text(258), "<pad>");
  EXPECT_THROW(t.token_text(259), DataError);
}

TEST(MakeTokenizer, BuildsByteAndNamesTypes) {
  EXPECT_EQ(make_tokenizer(TokenizerType::kByte, "")->type(), TokenizerType::kByte);
  EXPECT_EQ(enum_name_list<TokenizerType>(), "byte, bpe");
  EXPECT_FALSE(parse_enum<TokenizerType>("sentencepiece").has_value());
  EXPECT_THROW(make_tokenizer(TokenizerType::kBpe, ""), DataError);  // bpe needs a tokenizer.json
}

}  // namespace
}  // namespace bitnet::data
