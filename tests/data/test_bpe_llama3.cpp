// Our BPE against the reference encoder, Hugging Face `tokenizers` (pinned in requirements.lock,
// in .venv), on the LLaMA 3 tokenizer.json that BitNet b1.58 2B4T uses, read in place from the
// test data beside the repository. When .venv or the files are missing the test fails and says
// what to run, it never skips.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "data/bpe_tokenizer.h"
#include "data/rng.h"
#include "tests/support/shell_output.h"
#include "tests/support/temp_dir.h"

namespace bitnet::data {
namespace {

const std::string kSource = BITNET_SOURCE_DIR;
const std::string kLlama3 = BITNET_LLAMA3_TOKENIZER_DIR;  // tokenizer.json + tokenizer_config.json
const std::string kPython = BITNET_PYTHON;

// The one message for missing test data: where it was looked for and how to point elsewhere.
std::string missing_llama3() {
  return "the LLaMA 3 tokenizer files are missing from " + kLlama3 +
         " (they are kept beside the repository, or beside the local repository it was cloned from; configure with "
         "-DBITNET_LLAMA3_TOKENIZER_DIR=DIR to use others)";
}

const std::vector<std::string>& tricky_strings() {
  static const std::vector<std::string> strings = {
      "Hello, world!",
      "",
      " ",
      "   leading and trailing spaces   ",
      "tabs\tand\t\tnewlines\n\n\nend\n",
      "\r\n windows \r\n\r\n lines\r",
      "1 12 123 1234 12345 123456789012345678901234567890",
      "3.14159 -42 1e-10 0x1F 1,000,000 2024-06-01",
      "I'm you're we've they'll she'd it's DON'T I'M 'S 'Re",
      "na\u00efve caf\u00e9 r\u00e9sum\u00e9 Z\u00fcrich \u00c5ngstr\u00f6m",
      "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8\u3002\u4e2d\u6587\uff0c\ud55c\uad6d\uc5b4",
      "emoji \U0001F600\U0001F44D\U0001F3FD family \U0001F468\u200D\U0001F469\u200D\U0001F467 "
      "flag \U0001F1EB\U0001F1F7",
      "\u0395\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03ac \u0420\u0443\u0441\u0441\u043a\u0438\u0439"
      " \u0627\u0644\u0639\u0631\u0628\u064a\u0629 \u05e2\u05d1\u05e8\u05d9\u05ea "
      "\u0939\u093f\u0928\u094d\u0926\u0940",
      "combining e\u0301 a\u0308 zero\u200bwidth",
      "code: for (int i = 0; i < n; ++i) { x[i] += y[i]; }  // done",
      "    indented\n        more\n\tx",
      "many     spaces      between  \n  ",
      "punctuation!!! ??? ... --- *** ((())) \"quoted\" 'single'",
      "<|begin_of_text|>hello<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nhi",
      "<|not_special|> <|eot_id <|eot_id|>x",
      "\u00a0non-breaking\u00a0space \u3000ideographic\u2003em",
      "https://example.com/path?q=1&r=two#frag user@example.org",
      "\u2028line\u2029para\u0085next",
      "\u0663\u0664\u0665 \u2460\u2461\u2462 \u00bd \u00b2 \u2167 \uff11\uff12\uff13\uff14",
      std::string(300, 'a') + " " + std::string(100, '=') + std::string(50, ' ') + "x",
      "A day for firm decisions!!!!!  Or is it?\n\t\t-- Abraham Lincoln",
      "\xef\xbb\xbf"
      "BOM first",
      "CamelCaseWords snake_case_words kebab-case-words ALLCAPS",
  };
  return strings;
}

// Random strings glued from pieces that stress the pre-tokenizer's classes and boundaries
// (seeded, so the same strings every run).
std::vector<std::string> random_strings(int count) {
  static const char* pieces[] = {"a",      "Word",   " the",   "  ",     " ",      "\n",           "\n\n",
                                 "\r\n",   "\t",     "'s",     "'LL",    "'",      "\"",           "7",
                                 "42",     "12345",  " 9",     ".",      "...",    "!?",           "-",
                                 "_",      "(",      ")",      "\u00e9", "\u00c9", "\u4e2d\u6587", "\U0001F600",
                                 "\u200d", "\u0301", "\u00a0", "\u3000", "\u0663", "\u00bd",       "<|eot_id|>",
                                 "<|",     "|>",     "://",    "x",      "Q",      "\u0416\u0436"};
  SplitMix64 rng(20240601);
  std::vector<std::string> out;
  for (int i = 0; i < count; ++i) {
    std::string s;
    const uint64_t n = 1 + rng.uniform(24);
    for (uint64_t k = 0; k < n; ++k) s += pieces[rng.uniform(std::size(pieces))];
    out.push_back(s);
  }
  return out;
}

TEST(BpeLlama3, MatchesReferenceEncoder) {
  ASSERT_TRUE(std::filesystem::exists(kPython)) << kPython << " is missing: run scripts/setup (it makes .venv)";
  ASSERT_TRUE(std::filesystem::exists(kLlama3 + "/tokenizer.json")) << missing_llama3();

  std::vector<std::string> texts = tricky_strings();
  for (std::string& s : random_strings(300)) texts.push_back(std::move(s));
  testing::TempDir dir;
  const std::string input = dir.write("strings.json", nlohmann::json(texts).dump());
  const testing::ShellOutput reference =
      testing::shell_output("'" + kPython + "' '" + kSource + "/tests/clients/llama3_reference.py' '" + kLlama3 +
                            "/tokenizer.json' '" + input + "'");
  ASSERT_EQ(reference.status, 0) << "the reference encoder failed:\n" << reference.text;
  const auto expected = nlohmann::json::parse(reference.text).get<std::vector<std::vector<int32_t>>>();
  ASSERT_EQ(expected.size(), texts.size());

  const auto tokenizer = BpeTokenizer::from_file(kLlama3 + "/tokenizer.json");
  EXPECT_EQ(tokenizer->vocab_size(), 128256);
  EXPECT_EQ(tokenizer->bos_id(), 128000);  // <|begin_of_text|>
  EXPECT_EQ(tokenizer->eos_id(), 128001);  // <|end_of_text|>
  for (size_t i = 0; i < expected.size(); ++i) {
    const std::string& text = texts[i];
    const std::vector<int32_t> ids = tokenizer->encode(text);
    EXPECT_EQ(ids, expected[i]) << "string " << i << ": " << text;
    if (text.find("<|") == std::string::npos) {
      EXPECT_EQ(tokenizer->decode(ids), text) << "string " << i;
    }
  }
}

TEST(BpeLlama3, ArbitraryBytesRoundTrip) {
  ASSERT_TRUE(std::filesystem::exists(kLlama3 + "/tokenizer.json")) << missing_llama3();
  const auto tokenizer = BpeTokenizer::from_file(kLlama3 + "/tokenizer.json");
  SplitMix64 rng(99);
  for (int i = 0; i < 200; ++i) {
    std::string text(rng.uniform(64), '\0');
    for (char& c : text) c = static_cast<char>(rng.uniform(256));
    EXPECT_EQ(tokenizer->decode(tokenizer->encode_ordinary(text)), text) << "case " << i;
  }
}

TEST(BpeLlama3, InvalidUtf8RoundTrips) {
  ASSERT_TRUE(std::filesystem::exists(kLlama3 + "/tokenizer.json")) << missing_llama3();
  const auto tokenizer = BpeTokenizer::from_file(kLlama3 + "/tokenizer.json");
  for (const std::string& text : {std::string("\xff\xfe abc \xc3"), std::string("ok \x80\x80 ok"),
                                  std::string("\xe2\x82 truncated \xf0\x9f\x98"), std::string("nul\0byte", 8)}) {
    const std::vector<int32_t> ids = tokenizer->encode(text);
    EXPECT_FALSE(ids.empty());
    EXPECT_EQ(tokenizer->decode(ids), text);
  }
}

// Whether a model's prompts start with BOS (GGUF tokenizer.ggml.add_bos_token) is what
// transformers does with the files: the LLaMA 3 files here have a ByteLevel post-processor only
// (no BOS); Meta's own add a TemplateProcessing with <|begin_of_text|>, which transformers follows
// even when tokenizer_config.json says add_bos_token false.
TEST(BpeLlama3, AddsBosAsTransformersDoes) {
  ASSERT_TRUE(std::filesystem::exists(kPython)) << kPython << " is missing: run scripts/setup (it makes .venv)";
  std::ifstream in(kLlama3 + "/tokenizer.json");
  nlohmann::json tokenizer = nlohmann::json::parse(in);
  std::ifstream config_in(kLlama3 + "/tokenizer_config.json");
  nlohmann::json config = nlohmann::json::parse(config_in);
  const nlohmann::json bos = {{"SpecialToken", {{"id", "<|begin_of_text|>"}, {"type_id", 0}}}};
  const nlohmann::json with_bos = {
      {"type", "Sequence"},
      {"processors",
       {tokenizer["post_processor"],
        {{"type", "TemplateProcessing"},
         {"single", {bos, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
         {"pair", {bos, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}, {{"Sequence", {{"id", "B"}, {"type_id", 1}}}}}},
         {"special_tokens",
          {{"<|begin_of_text|>",
            {{"id", "<|begin_of_text|>"}, {"ids", {128000}}, {"tokens", {"<|begin_of_text|>"}}}}}}}}}};
  struct Variant {
    const char* name;
    bool template_bos;
    nlohmann::json add_bos_token;  // null: key absent
  };
  for (const Variant& v : {Variant{"as shipped here", false, nullptr}, Variant{"Meta's post-processor", true, nullptr},
                           Variant{"post-processor, config says false", true, false}}) {
    SCOPED_TRACE(v.name);
    testing::TempDir dir;
    nlohmann::json t = tokenizer, c = config;
    if (v.template_bos) t["post_processor"] = with_bos;
    if (!v.add_bos_token.is_null()) c["add_bos_token"] = v.add_bos_token;
    dir.write("tokenizer.json", t.dump());
    dir.write("tokenizer_config.json", c.dump());
    const testing::ShellOutput out =
        testing::shell_output("'" + kPython +
                              "' -c \"import sys; from transformers import AutoTokenizer as A; "
                              "t = A.from_pretrained(sys.argv[1], local_files_only=True); "
                              "print(int(t('hi').input_ids[:1] == [t.bos_token_id]))\" '" +
                              dir.path() + "' 2>/dev/null");
    ASSERT_EQ(out.status, 0) << out.text;
    EXPECT_EQ(BpeTokenizer::from_file(dir.path("tokenizer.json"))->adds_bos(), out.text == "1\n")
        << "transformers: " << out.text;
  }
}

}  // namespace
}  // namespace bitnet::data
