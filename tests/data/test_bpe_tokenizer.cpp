// Byte-level BPE on a tiny tokenizer.json written here, with merges worked out by hand; the
// GPT-2 byte alphabet; added tokens; the errors for unsupported or broken files.
#include <gtest/gtest.h>

#include "data/bpe_tokenizer.h"
#include "data/byte_level.h"
#include "data/byte_tokenizer.h"
#include "data/error.h"
#include "tests/support/temp_dir.h"

namespace bitnet::data {
namespace {

// Ids: a0 b1 c2 d3 Ġ4 ab5 abc6 bc7 Ġa8 cd9 aa10 bcd11; added <x>100 (special), <xy>101 (not
// special), <s>102, </s>103. Merge ranks: a+b 0, ab+c 1, b+c 2, Ġ+a 3, c+d 4, a+a 5.
std::string tiny_json(bool ignore_merges, const std::string& normalizer = "null") {
  return std::string(R"({
  "version": "1.0", "normalizer": )") +
         normalizer + R"(,
  "added_tokens": [
    {"id": 100, "content": "<x>", "special": true},
    {"id": 101, "content": "<xy>", "special": false},
    {"id": 102, "content": "<s>", "special": true},
    {"id": 103, "content": "</s>", "special": true}],
  "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
    {"type": "Split", "pattern": {"Regex": " ?[a-z]+|\\s+"}, "behavior": "Isolated",
     "invert": false},
    {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false}]},
  "post_processor": null, "decoder": {"type": "ByteLevel"},
  "model": {"type": "BPE", "dropout": null, "unk_token": null, "ignore_merges": )" +
         (ignore_merges ? "true" : "false") + R"(,
    "vocab": {"a": 0, "b": 1, "c": 2, "d": 3, "Ġ": 4, "ab": 5, "abc": 6, "bc": 7, "Ġa": 8,
              "cd": 9, "aa": 10, "bcd": 11},
    "merges": ["a b", "ab c", ["b", "c"], "Ġ a", "c d", "a a"]}
})";
}

std::unique_ptr<BpeTokenizer> tiny(bool ignore_merges = false) {
  return BpeTokenizer::from_json(tiny_json(ignore_merges), "", "tiny.json");
}

using Ids = std::vector<int32_t>;

TEST(ByteLevel, Gpt2Alphabet) {
  const auto& t = byte_to_code_point();
  EXPECT_EQ(t['a'], uint32_t{'a'});
  EXPECT_EQ(t[0x00], 0x100u);
  EXPECT_EQ(t[0x0A], 0x10Au);  // 'Ċ'
  EXPECT_EQ(t[0x20], 0x120u);  // 'Ġ'
  EXPECT_EQ(t[0x7F], 0x121u);  // after the 33 bytes 0x00..0x20
  EXPECT_EQ(t[0x80], 0x122u);
  EXPECT_EQ(t[0xA0], 0x142u);
  EXPECT_EQ(t[0xA1], 0xA1u);
  EXPECT_EQ(t[0xAD], 0x143u);  // the 68th and last remapped byte
  EXPECT_EQ(bytes_to_byte_level(" a\n"),
            "\xC4\xA0"
            "a"
            "\xC4\x8A");
  std::string all, back;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  ASSERT_TRUE(byte_level_to_bytes(bytes_to_byte_level(all), back));
  EXPECT_EQ(back, all);
  EXPECT_FALSE(byte_level_to_bytes("\xE4\xB8\x80", back));  // U+4E00 is not in the alphabet
  EXPECT_FALSE(byte_level_to_bytes("\xC4", back));          // truncated UTF-8
}

TEST(BpeTokenizer, MergesByRankByHand) {
  const auto t = tiny();
  EXPECT_EQ(t->encode("abc"), (Ids{6}));      // ab (0), then ab+c (1)
  EXPECT_EQ(t->encode("bcd"), (Ids{7, 3}));   // b+c (2); bc+d has no merge
  EXPECT_EQ(t->encode("abcd"), (Ids{6, 3}));  // ab (0) beats b+c; then ab+c (1) beats c+d (4)
  EXPECT_EQ(t->encode("cd"), (Ids{9}));
  EXPECT_EQ(t->encode("aaa"), (Ids{10, 0}));  // overlapping a+a: the leftmost goes first
  EXPECT_EQ(t->encode("aaaa"), (Ids{10, 10}));
  EXPECT_EQ(t->encode(" ab"), (Ids{4, 5}));  // a+b (0) beats Ġ+a (3)
  EXPECT_EQ(t->encode(" ac"), (Ids{8, 2}));
  EXPECT_EQ(t->encode("d d"), (Ids{3, 4, 3}));      // pieces "d", " d"
  EXPECT_EQ(t->encode("a  b"), (Ids{0, 4, 4, 1}));  // pieces "a", "  " (\s+ is greedy), "b"
  EXPECT_TRUE(t->encode("").empty());
}

TEST(BpeTokenizer, IgnoreMergesTakesWholeVocabularyPieces) {
  EXPECT_EQ(tiny(false)->encode("bcd"), (Ids{7, 3}));
  EXPECT_EQ(tiny(true)->encode("bcd"), (Ids{11}));  // "bcd" is in the vocabulary
  EXPECT_EQ(tiny(true)->encode("abcd"), (Ids{6, 3}));
}

TEST(BpeTokenizer, AddedTokensAreCutOutFirstLongestFirst) {
  const auto t = tiny();
  EXPECT_EQ(t->encode("a<xy>b<x>c"), (Ids{0, 101, 1, 100, 2}));
  EXPECT_EQ(t->encode("<x><x>"), (Ids{100, 100}));
  EXPECT_EQ(t->encode("<s>ab</s>"), (Ids{102, 5, 103}));
  EXPECT_EQ(t->bos_id(), 102);
  EXPECT_EQ(t->eos_id(), 103);
  EXPECT_EQ(t->pad_id(), 103);
  EXPECT_EQ(t->vocab_size(), 104);
  EXPECT_EQ(t->token_id("<xy>"), 101);
  EXPECT_FALSE(t->token_id("zz").has_value());
  EXPECT_THROW(t->encode_ordinary("<x>"), DataError);  // '<' and 'x' have no tokens here
}

TEST(BpeTokenizer, DecodeSkipsSpecialsAndMapsBytesBack) {
  const auto t = tiny();
  EXPECT_EQ(t->decode({4, 5, 100, 101, 8, 102}), " ab<xy> a");
  EXPECT_EQ(t->decode(t->encode("abcd aa")), "abcd aa");
  EXPECT_EQ(t->token_text(4), "Ġ");
  EXPECT_EQ(t->token_text(101), "<xy>");
  EXPECT_THROW(t->decode({12}), DataError);  // a hole in the ids
  EXPECT_THROW(t->decode({104}), DataError);
  EXPECT_THROW(t->token_text(-1), DataError);
}

TEST(BpeTokenizer, ByteWithoutTokenIsAnError) {
  EXPECT_THROW(tiny()->encode("z"), DataError);
}

std::string load_error(const std::string& json_text) {
  try {
    BpeTokenizer::from_json(json_text, "", "t.json");
  } catch (const DataError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(BpeTokenizer, UnsupportedOrBrokenFilesAreNamed) {
  EXPECT_NE(load_error(tiny_json(false, R"({"type": "NFC"})")).find("normalizer"), std::string::npos);
  EXPECT_NE(load_error("{ not json").find("not valid JSON"), std::string::npos);
  EXPECT_NE(load_error("[]").find("model"), std::string::npos);
  std::string bad_merge = tiny_json(false);
  bad_merge.replace(bad_merge.find("\"c d\""), 5, "\"c q\"");
  EXPECT_NE(load_error(bad_merge).find("merge 4"), std::string::npos) << load_error(bad_merge);
  std::string bad_id = tiny_json(false);
  bad_id.replace(bad_id.find("\"d\": 3"), 6, "\"d\": -3");
  EXPECT_NE(load_error(bad_id).find("-3"), std::string::npos) << load_error(bad_id);
  std::string sparse = tiny_json(false);
  sparse.replace(sparse.find("\"d\": 3"), 6, "\"d\": 5000000");
  EXPECT_NE(load_error(sparse).find("far beyond"), std::string::npos) << load_error(sparse);
  std::string wrong_type = tiny_json(false);
  wrong_type.replace(wrong_type.find("\"type\": \"BPE\""), 13, "\"type\": 7");
  EXPECT_NE(load_error(wrong_type).find("t.json"), std::string::npos) << load_error(wrong_type);
  std::string wordpiece = tiny_json(false);
  wordpiece.replace(wordpiece.find("\"type\": \"BPE\""), 13, "\"type\": \"WordPiece\"");
  EXPECT_NE(load_error(wordpiece).find("WordPiece"), std::string::npos);
}

// tiny_json with `from` (which must occur) replaced by `to`.
std::string tiny_with(const std::string& from, const std::string& to) {
  std::string text = tiny_json(false);
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return text.replace(at, from.size(), to);
}

void expect_all(const std::string& message, std::initializer_list<const char*> needles) {
  for (const char* n : needles) {
    EXPECT_NE(message.find(n), std::string::npos) << "missing '" << n << "' in: " << message;
  }
}

// Rank r is the r-th merge of the file, so a pair listed twice has no single rank: refused
// (Hugging Face `tokenizers` keeps the last rank silently). It used to make
// merges_in_rank_order() write past the end of its vector.
TEST(BpeTokenizer, DuplicateMergeIsRefused) {
  expect_all(load_error(tiny_with(R"(["a b", "ab c")", R"(["a b", "a b", "ab c")")),
             {"t.json", "merge 1", "'a' + 'b'", "repeats merge 0"});
  expect_all(load_error(tiny_with(R"("c d", "a a"])", R"(["c", "d"], "a a", ["c", "d"]])")),
             {"t.json", "merge 6", "'c' + 'd'", "repeats merge 4"});
}

TEST(BpeTokenizer, MergesInRankOrderAreTheFileOrder) {
  EXPECT_EQ(tiny()->merges_in_rank_order(), (std::vector<std::string>{"a b", "ab c", "b c", "Ġ a", "c d", "a a"}));
}

// Each id names one token and each token has one id (HF `tokenizers` accepts two tokens with
// one id and then decodes that id as only one of them).
TEST(BpeTokenizer, DuplicateIdIsRefused) {
  expect_all(load_error(tiny_with(R"("d": 3)", R"("d": 2)")),
             {"t.json", "model.vocab entry 'd' has id 2", "token 'c' already has"});
  expect_all(load_error(tiny_with(R"("id": 100, "content": "<x>")", R"("id": 0, "content": "<x>")")),
             {"t.json", "added token '<x>' has id 0", "token 'a' already has"});
  expect_all(load_error(tiny_with(R"("id": 101, "content": "<xy>")", R"("id": 101, "content": "ab")")),
             {"t.json", "added token 'ab' has id 101 but already has id 5"});
  expect_all(load_error(tiny_with(R"("id": 103, "content": "</s>")", R"("id": 102, "content": "</s>")")),
             {"t.json", "added token '</s>' has id 102", "token '<s>' already has"});
  // An added token that is also in model.vocab under the same id is the same token: accepted.
  const auto t = BpeTokenizer::from_json(
      tiny_with(R"({"id": 100,)", R"({"id": 6, "content": "abc", "special": false}, {"id": 100,)"), "", "t.json");
  EXPECT_EQ(t->encode("abc"), (Ids{6}));
  EXPECT_TRUE(t->is_added(6));
}

TEST(BpeTokenizer, DuplicateKeyIsRefused) {
  expect_all(load_error(tiny_with(R"("d": 3,)", R"("d": 3, "d": 12,)")), {"t.json", "duplicate key \"d\""});
}

// A tokenizer.json nested 100,000 levels deep (200 KB) is refused while parsing. It used to
// overflow the stack when the unsupported value was dump()ed into the message.
TEST(BpeTokenizer, DeepNestingIsRefused) {
  const std::string deep = std::string(100'000, '[') + std::string(100'000, ']');
  expect_all(load_error(tiny_with(R"("unk_token": null)", R"("unk_token": )" + deep)),
             {"t.json", "nest too deeply", "at most 64 levels"});
}

// Messages quote at most an excerpt of a huge token from the file.
TEST(BpeTokenizer, MessagesQuoteAnExcerpt) {
  const std::string message = load_error(tiny_with(R"("a a"])", R"("a a", ")" + std::string(100'000, 'q') + R"( a"])"));
  expect_all(message, {"t.json", "merge 6", "(100000 bytes)", "not in model.vocab"});
  EXPECT_LT(message.size(), 500u);
}

TEST(BpeTokenizer, ConfigFileNamesTheSpecials) {
  testing::TempDir dir;
  const std::string path = dir.write("tokenizer.json", tiny_json(false));
  dir.write("tokenizer_config.json", R"({"bos_token": "<x>", "eos_token": {"content": "<xy>"},
                                        "pad_token": "</s>"})");
  const auto t = make_tokenizer(TokenizerType::kBpe, path);
  EXPECT_EQ(t->type(), TokenizerType::kBpe);
  EXPECT_EQ(t->bos_id(), 100);
  EXPECT_EQ(t->eos_id(), 101);
  EXPECT_EQ(t->pad_id(), 103);
  EXPECT_EQ(make_tokenizer(TokenizerType::kBpe, dir.path())->eos_id(), 101);  // a model directory
  dir.write("tokenizer_config.json", R"({"bos_token": "<nope>"})");
  EXPECT_THROW(make_tokenizer(TokenizerType::kBpe, path), DataError);
  EXPECT_THROW(make_tokenizer(TokenizerType::kBpe, dir.path("missing.json")), DataError);
}

}  // namespace
}  // namespace bitnet::data
