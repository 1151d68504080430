// Chat templates and JSONL examples with the byte tokenizer, whose ids are the bytes themselves,
// so every expected sequence is written out from the strings by hand; bad-line handling.
#include <gtest/gtest.h>

#include "data/byte_tokenizer.h"
#include "data/chat_template.h"
#include "data/error.h"
#include "data/jsonl.h"
#include "tests/support/temp_dir.h"

namespace bitnet::data {
namespace {

using Ids = std::vector<int32_t>;
using Mask = std::vector<uint8_t>;

// Expected tokens/mask built part by part: text as bytes, or one id.
struct Expect {
  Ids ids;
  Mask mask;
  Expect& text(const std::string& s, bool train) {
    for (unsigned char c : s) {
      ids.push_back(c);
      mask.push_back(train);
    }
    return *this;
  }
  Expect& id(int32_t i, bool train) {
    ids.push_back(i);
    mask.push_back(train);
    return *this;
  }
};

TEST(ChatTemplate, GenericTrainsAssistantContentAndItsEos) {
  ByteTokenizer bytes;
  const MaskedTokens m =
      render_chat({{"system", "Be kind."}, {"user", "hi"}, {"assistant", "yo"}}, ChatTemplate::kGeneric, bytes);
  Expect e;
  e.id(256, false)
      .text("<|system|>\n", false)
      .text("Be kind.", false)
      .id(257, false)
      .text("<|user|>\n", false)
      .text("hi", false)
      .id(257, false)
      .text("<|assistant|>\n", false)
      .text("yo", true)
      .id(257, true);
  EXPECT_EQ(m.tokens, e.ids);
  EXPECT_EQ(m.trained, e.mask);
  EXPECT_EQ(m.num_trained(), 3);
  const MaskedTokens p = render_chat({{"user", "hi"}}, ChatTemplate::kGeneric, bytes, true);
  Expect g;
  g.id(256, false).text("<|user|>\n", false).text("hi", false).id(257, false).text("<|assistant|>\n", false);
  EXPECT_EQ(p.tokens, g.ids);
  EXPECT_EQ(p.num_trained(), 0);
}

TEST(ChatTemplate, Bitnet2b4tNeedsItsSpecialTokensAndNamesAreChecked) {
  ByteTokenizer bytes;
  try {
    render_chat({{"user", "hi"}}, ChatTemplate::kBitnet2b4t, bytes);
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("needs the token <|"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("chat_template: generic"), std::string::npos);
  }
  EXPECT_THROW(render_chat({{"user", "hi"}}, ChatTemplate::kLlama3, bytes), DataError);
  EXPECT_EQ(parse_enum<ChatTemplate>("bitnet-2b4t"), ChatTemplate::kBitnet2b4t);
  EXPECT_EQ(parse_enum<ChatTemplate>("llama3"), ChatTemplate::kLlama3);
  for (const char* name : {"generic", "bitnet-2b4t", "llama3"}) {
    EXPECT_STREQ(enum_name(parse_enum<ChatTemplate>(name).value()), name);
  }
  EXPECT_FALSE(parse_enum<ChatTemplate>("chatml").has_value());
  EXPECT_EQ(enum_name_list<ChatTemplate>(), "generic, bitnet-2b4t, llama3");
  EXPECT_THROW(render_chat({{"", "x"}}, ChatTemplate::kGeneric, bytes), DataError);
}

TEST(JsonlLine, ShapesByHand) {
  ByteTokenizer bytes;
  const MaskedTokens t = jsonl_line_to_example(R"({"text": "ab"})", bytes, ChatTemplate::kGeneric, "f", 1);
  EXPECT_EQ(t.tokens, (Ids{97, 98, 257}));
  EXPECT_EQ(t.trained, (Mask{1, 1, 1}));
  const MaskedTokens pc =
      jsonl_line_to_example(R"({"prompt": "Q: 2+2?", "completion": " 4"})", bytes, ChatTemplate::kGeneric, "f", 1);
  Expect e;
  e.text("Q: 2+2?", false).text(" 4", true).id(257, true);
  EXPECT_EQ(pc.tokens, e.ids);
  EXPECT_EQ(pc.trained, e.mask);
  const MaskedTokens chat = jsonl_line_to_example(
      R"({"messages": [{"role": "user", "content": "é"}, {"role": "assistant", "content": "ok"}]})", bytes,
      ChatTemplate::kGeneric, "f", 1);
  Expect c;
  c.id(256, false)
      .text("<|user|>\n", false)
      .text("\xc3\xa9", false)
      .id(257, false)
      .text("<|assistant|>\n", false)
      .text("ok", true)
      .id(257, true);
  EXPECT_EQ(chat.tokens, c.ids);
  EXPECT_EQ(chat.trained, c.mask);
}

std::string line_error(const std::string& line) {
  ByteTokenizer bytes;
  try {
    jsonl_line_to_example(line, bytes, ChatTemplate::kGeneric, "data.jsonl", 7);
  } catch (const DataError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(JsonlLine, BadLinesNameFileLineAndReason) {
  EXPECT_EQ(line_error("{oops"), line_error("{oops"));
  EXPECT_EQ(line_error("{oops").rfind("data.jsonl:7: not valid JSON", 0), 0u) << line_error("{oops");
  EXPECT_NE(line_error("[1, 2]").find("data.jsonl:7: expected a JSON object"), std::string::npos);
  EXPECT_NE(line_error(R"({"prompt": 3, "completion": "x"})").find("\"prompt\" must be a string"), std::string::npos);
  EXPECT_NE(line_error(R"({"prompt": "x"})").find("missing \"completion\""), std::string::npos);
  EXPECT_NE(line_error(R"({"text": "a", "messages": []})").find("more than one"), std::string::npos);
  EXPECT_NE(line_error(R"({"other": 1})").find("expected \"text\""), std::string::npos);
  EXPECT_NE(line_error(R"({"messages": [{"role": "user", "content": "hi"}]})").find("assistant"), std::string::npos);
  EXPECT_NE(line_error(R"({"messages": [{"role": "user"}]})").find("message 0: missing"), std::string::npos);
  EXPECT_NE(line_error(R"({"messages": "hi"})").find("non-empty array"), std::string::npos);
}

const char* kMixedFile =
    "{\"text\": \"ab\"}\n"
    "\n"
    "{\"prompt\": \"Q\", \"completion\": \"A\"}\n"
    "not json\n"
    "{\"prompt\": 3, \"completion\": \"x\"}\n"
    "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}\n"
    "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}, "
    "{\"role\": \"assistant\", \"content\": \"yo\"}]}\r\n"
    "{\"text\": \"a\", \"messages\": []}\n"
    "[1,2]";

TEST(ReadJsonl, FailOnTheFirstBadLine) {
  testing::TempDir dir;
  const std::string path = dir.write("mixed.jsonl", kMixedFile);
  ByteTokenizer bytes;
  try {
    read_jsonl_examples({path}, bytes, JsonlOptions{});
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find(path + ":4: not valid JSON"), std::string::npos) << e.what();
  }
}

TEST(ReadJsonl, SkipBadLinesAndReportThem) {
  testing::TempDir dir;
  const std::string path = dir.write("mixed.jsonl", kMixedFile);
  ByteTokenizer bytes;
  JsonlOptions options;
  options.bad_lines = BadLines::kSkip;
  JsonlReport report;
  const std::vector<MaskedTokens> ex = read_jsonl_examples({path}, bytes, options, &report);
  ASSERT_EQ(ex.size(), 3u);
  EXPECT_EQ(report.lines, 8);
  EXPECT_EQ(report.examples, 3);
  EXPECT_EQ(report.skipped, 5);
  ASSERT_EQ(report.messages.size(), 5u);
  EXPECT_EQ(report.messages[0].rfind(path + ":4:", 0), 0u) << report.messages[0];
  EXPECT_EQ(report.messages[1].rfind(path + ":5:", 0), 0u) << report.messages[1];
  EXPECT_EQ(report.messages[4].rfind(path + ":9:", 0), 0u) << report.messages[4];
  EXPECT_EQ(ex[0].tokens, (Ids{97, 98, 257}));
  EXPECT_EQ(ex[1].tokens, (Ids{'Q', 'A', 257}));
  EXPECT_EQ(ex[1].trained, (Mask{0, 1, 1}));
  EXPECT_EQ(ex[2].num_trained(), 3);  // "yo" + EOS; the '\r' of CRLF is not content
  options.max_reported = 2;
  read_jsonl_examples({path}, bytes, options, &report);
  EXPECT_EQ(report.messages.size(), 2u);
  EXPECT_EQ(report.skipped, 5);
}

// One rule for all JSON we read (formats/json_read.h): duplicate keys, nesting beyond 64 levels
// and numbers beyond double are bad JSON, and a message quotes only an excerpt of the line.
TEST(JsonlLine, StrictJsonRules) {
  EXPECT_NE(line_error(R"({"text": "a", "text": "b"})").find("data.jsonl:7: duplicate key \"text\""), std::string::npos)
      << line_error(R"({"text": "a", "text": "b"})");
  EXPECT_NE(line_error(R"({"messages": [{"role": "user", "role": "assistant", "content": "x"}]})")
                .find("duplicate key \"role\""),
            std::string::npos);
  const std::string deep = R"({"text": )" + std::string(100'000, '[') + std::string(100'000, ']') + "}";
  EXPECT_NE(line_error(deep).find("data.jsonl:7: JSON arrays/objects nest too deeply"), std::string::npos)
      << line_error(deep);
  EXPECT_NE(line_error(R"({"text": "a", "n": 1e400})").find("data.jsonl:7: not valid JSON"), std::string::npos)
      << line_error(R"({"text": "a", "n": 1e400})");
  const std::string unterminated = R"({"text": ")" + std::string(100'000, 'x');
  EXPECT_NE(line_error(unterminated).find("data.jsonl:7: not valid JSON"), std::string::npos);
  EXPECT_LT(line_error(unterminated).size(), 400u);
}

// `{"text": "` + n letters + `"}` is a line of n + 12 bytes.
std::string text_line(size_t letters) {
  return R"({"text": ")" + std::string(letters, 'x') + "\"}";
}

// A line longer than max_line_bytes is a bad line (named with its length) and is never held
// whole; a line of exactly the limit is fine.
TEST(ReadJsonl, LinesLongerThanTheLimitAreBad) {
  testing::TempDir dir;
  const std::string path = dir.write("long.jsonl", text_line(52) + "\n" + text_line(1000) + "\n" + text_line(1) + "\n" +
                                                       std::string(5000, '{'));  // unterminated, no final '\n'
  ByteTokenizer bytes;
  JsonlOptions options;
  options.max_line_bytes = 64;
  try {
    read_jsonl_examples({path}, bytes, options);
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path + ":2: the line is 1012 bytes, longer than the limit of 64 bytes"), std::string::npos)
        << msg;
    EXPECT_LT(msg.size(), path.size() + 200) << msg;
  }
  options.bad_lines = BadLines::kSkip;
  JsonlReport report;
  const std::vector<MaskedTokens> ex = read_jsonl_examples({path}, bytes, options, &report);
  ASSERT_EQ(ex.size(), 2u);
  EXPECT_EQ(ex[0].tokens.size(), 53u);  // 52 letters + EOS: the 64-byte line is accepted
  EXPECT_EQ(report.lines, 4);
  EXPECT_EQ(report.skipped, 2);
  ASSERT_EQ(report.messages.size(), 2u);
  EXPECT_NE(report.messages[1].find(path + ":4: the line is 5000 bytes"), std::string::npos) << report.messages[1];
  options.max_line_bytes = 0;
  EXPECT_THROW(read_jsonl_examples({path}, bytes, options), DataError);
}

// Lines are found across the reader's 64 KiB chunks: many short lines, then one line of
// 200,012 bytes under a larger limit.
TEST(ReadJsonl, LinesSpanningReadChunks) {
  testing::TempDir dir;
  std::string content;
  for (int i = 0; i < 5000; ++i) content += text_line(static_cast<size_t>(i % 30)) + "\r\n";
  content += text_line(200'000);
  const std::string path = dir.write("many.jsonl", content);
  ByteTokenizer bytes;
  JsonlOptions options;
  options.max_line_bytes = 200'012;
  const std::vector<MaskedTokens> ex = read_jsonl_examples({path}, bytes, options);
  ASSERT_EQ(ex.size(), 5001u);
  for (int i = 0; i < 5000; ++i) ASSERT_EQ(ex[i].tokens.size(), static_cast<size_t>(i % 30 + 1)) << i;
  EXPECT_EQ(ex[5000].tokens.size(), 200'001u);
}

TEST(ReadJsonl, NoExamplesOrMissingFileIsAnError) {
  testing::TempDir dir;
  const std::string path = dir.write("bad.jsonl", "nope\n\n");
  ByteTokenizer bytes;
  JsonlOptions options;
  options.bad_lines = BadLines::kSkip;
  try {
    read_jsonl_examples({path}, bytes, options);
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("no examples"), std::string::npos) << e.what();
  }
  EXPECT_THROW(read_jsonl_examples({dir.path("missing.jsonl")}, bytes, options), DataError);
}

}  // namespace
}  // namespace bitnet::data
