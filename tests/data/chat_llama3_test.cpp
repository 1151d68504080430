// The bitnet-2b4t chat template against the reference: transformers' apply_chat_template with the
// chat_template of the LLaMA 3 tokenizer_config.json. The official template always ends with the
// assistant header, so we compare with add_generation_prompt = true. Fails (never skips) when
// .venv or the tokenizer files are missing.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "data/bpe_tokenizer.h"
#include "data/chat_template.h"
#include "temp_dir.h"

namespace bitnet::data {
namespace {

const std::string kSource = BITNET_SOURCE_DIR;
const std::string kLlama3 = BITNET_LLAMA3_TOKENIZER_DIR;  // tokenizer.json + tokenizer_config.json
const std::string kPython = BITNET_PYTHON;

std::string run_command(const std::string& command, int& status) {
  std::string output;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    status = -1;
    return output;
  }
  char buffer[65536];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
  status = ::pclose(pipe);
  return output;
}

using Conversation = std::vector<ChatMessage>;

TEST(ChatLlama3, Bitnet2b4tMatchesReferenceTemplate) {
  int status = 0;
  ASSERT_TRUE(std::filesystem::exists(kPython)) << kPython << " is missing: run scripts/setup (it makes .venv)";
  ASSERT_TRUE(std::filesystem::exists(kLlama3 + "/tokenizer.json"))
      << "the LLaMA 3 tokenizer files are missing from " << kLlama3;

  const std::vector<Conversation> conversations = {
      {{"system", "Be brief."}, {"user", "  Hi there \n"}, {"assistant", "Hello!"}},
      {{"user", "What is 12345 * 678?"}, {"assistant", "8369910"},
       {"user", "\tAnd in words?\n\n"}, {"assistant", " eight million, ... \n"}},
      {{"user", "caf\u00e9 \U0001F600\nline two\n\nline four"}, {"assistant", ""}},
      {{"assistant", "I speak first.  Spaces   inside stay."}},
  };
  nlohmann::json input = nlohmann::json::array();
  for (const Conversation& c : conversations) {
    nlohmann::json messages = nlohmann::json::array();
    for (const ChatMessage& m : c) messages.push_back({{"role", m.role}, {"content", m.content}});
    input.push_back(messages);
  }
  testing::TempDir dir;
  const std::string path = dir.write("chats.json", input.dump());
  const std::string output = run_command(
      "'" + kPython + "' '" + kSource + "/tests/clients/llama3_chat_reference.py' '" + kLlama3 + "' '" + path + "'",
      status);
  ASSERT_EQ(status, 0) << "the reference chat template failed:\n" << output;
  const auto expected = nlohmann::json::parse(output).get<std::vector<std::vector<int32_t>>>();
  ASSERT_EQ(expected.size(), conversations.size());

  const auto tokenizer = BpeTokenizer::from_file(kLlama3 + "/tokenizer.json");
  for (size_t i = 0; i < conversations.size(); ++i) {
    const MaskedTokens m =
        render_chat(conversations[i], ChatTemplate::kBitnet2b4t, *tokenizer, true);
    EXPECT_EQ(m.tokens, expected[i]) << "conversation " << i;
  }

  // Trained tokens of the first conversation: exactly "Hello!" and <|eot_id|> (128009).
  const MaskedTokens m = render_chat(conversations[0], ChatTemplate::kBitnet2b4t, *tokenizer);
  std::vector<int32_t> trained;
  for (size_t j = 0; j < m.tokens.size(); ++j) {
    if (m.trained[j]) trained.push_back(m.tokens[j]);
  }
  std::vector<int32_t> want = tokenizer->encode_ordinary("Hello!");
  want.push_back(128009);
  EXPECT_EQ(trained, want);
  EXPECT_EQ(m.tokens.back(), 128009);  // no generation prompt when training
}

}  // namespace
}  // namespace bitnet::data
