// A BPE tokenizer taken apart the way the GGUF exporter writes it (tokens by id, merges in rank
// order, added/special ids, split regex by its llama.cpp `pre` name) and rebuilt the way the
// runtime reads it back encodes and decodes exactly like the tokenizer.json it came from, on the
// LLaMA 3 tokenizer and on a small GPT-2-style file written here.
#include <gtest/gtest.h>

#include "data/bpe_tokenizer.h"
#include "data/error.h"

namespace bitnet::data {
namespace {

BpeTokenizer::Parts parts_of(const BpeTokenizer& t) {
  BpeTokenizer::Parts p;
  for (int32_t id = 0; id < t.vocab_size(); ++id) {
    std::string text;
    try {
      text = t.token_text(id);
    } catch (const DataError&) {
    }
    p.tokens.push_back(text);
    if (t.is_added(id)) p.added.emplace_back(id, t.is_special(id));
  }
  p.merges = t.merges_in_rank_order();
  const std::string pre = gguf_pre_name(t.split_pattern());
  EXPECT_FALSE(pre.empty());
  p.split_pattern = split_pattern_for_gguf_pre(pre).value();
  p.ignore_merges = t.ignore_merges();
  p.bos_id = t.bos_id();
  p.eos_id = t.eos_id();
  p.pad_id = t.pad_id();
  return p;
}

void expect_same(const BpeTokenizer& a, const BpeTokenizer& b) {
  EXPECT_EQ(a.vocab_size(), b.vocab_size());
  EXPECT_EQ(a.bos_id(), b.bos_id());
  EXPECT_EQ(a.eos_id(), b.eos_id());
  for (const std::string s : {"Hello, world!", "  spaces   and\ttabs\n\n", "they're 12345 caf\u00e9",
                              "emoji \U0001F999 \xff\xfe invalid", "<|eot_id|> stays text? <|begin_of_text|>"}) {
    EXPECT_EQ(a.encode(s), b.encode(s)) << s;
    EXPECT_EQ(a.decode(a.encode(s)), b.decode(b.encode(s))) << s;
  }
}

TEST(BpeParts, Llama3RoundTrip) {
  const auto t = BpeTokenizer::from_file(std::string(BITNET_LLAMA3_TOKENIZER_DIR) + "/tokenizer.json");
  EXPECT_EQ(gguf_pre_name(t->split_pattern()), "llama-bpe");
  EXPECT_TRUE(t->ignore_merges());
  const auto merges = t->merges_in_rank_order();
  ASSERT_EQ(merges.size(), 280147u);          // the file's model.merges
  EXPECT_EQ(merges[0], "\xc4\xa0 \xc4\xa0");  // its first merge, "Ġ Ġ"
  const auto back = BpeTokenizer::from_parts(parts_of(*t), "parts");
  expect_same(*t, *back);
}

TEST(BpeParts, Gpt2StyleRoundTripAndUnknownRegex) {
  // Bytes a, b, c, space (Ġ) and merges "a b" then "Ġ ab"; GPT-2 regex via ByteLevel use_regex.
  const std::string json = R"({"added_tokens": [{"id": 6, "content": "<|endoftext|>", "special": true}],
    "normalizer": null, "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true},
    "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "c": 2, "\u0120": 3, "ab": 4, "\u0120ab": 5},
              "merges": ["a b", "\u0120 ab"]}})";
  const auto t = BpeTokenizer::from_json(json, "", "gpt2.json");
  EXPECT_EQ(gguf_pre_name(t->split_pattern()), "gpt-2");
  EXPECT_EQ(t->merges_in_rank_order(), (std::vector<std::string>{"a b", "\xc4\xa0 ab"}));
  EXPECT_EQ(t->encode("ab ab c"), (std::vector<int32_t>{4, 5, 3, 2}));
  const auto back = BpeTokenizer::from_parts(parts_of(*t), "parts");
  EXPECT_EQ(back->encode("ab ab c"), (std::vector<int32_t>{4, 5, 3, 2}));
  EXPECT_EQ(back->eos_id(), 6);
  EXPECT_EQ(gguf_pre_name("\\w+"), "");
  EXPECT_FALSE(split_pattern_for_gguf_pre("qwen2").has_value());
}

// A GGUF vocabulary that repeats a token text is refused, naming both ids: encoding could reach
// only one of them.
TEST(BpeParts, RepeatedTokenTextIsRefused) {
  BpeTokenizer::Parts p;
  p.tokens = {"a", "b", "ab", "a"};
  p.merges = {"a b"};
  p.bos_id = p.eos_id = -1;
  try {
    BpeTokenizer::from_parts(p, "model.gguf");
    FAIL() << "a repeated token text was accepted";
  } catch (const DataError& e) {
    EXPECT_STREQ(e.what(),
                 "model.gguf: tokens 0 and 3 have the same text 'a'; every token of the "
                 "vocabulary must be distinct");
  }
}

}  // namespace
}  // namespace bitnet::data
