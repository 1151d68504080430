// Feeds the input, as one JSONL line, to data::jsonl_line_to_example with the byte tokenizer
// (both chat templates), and, when the line holds a "messages" array of string role/content
// objects, renders those messages with data::render_chat directly (with and without the
// generation prompt). Checks: tokens and mask have one entry each, every token is in the byte
// vocabulary, the mask is 0/1, and the line parser's result equals render_chat's for the same
// messages. DataError and FormatError (from the strict JSON parser) are the accepted failures.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "data/byte_tokenizer.h"
#include "data/chat_template.h"
#include "data/error.h"
#include "data/jsonl.h"
#include "formats/json_read.h"

using namespace bitnet;
using namespace bitnet::data;

namespace {

void check(const MaskedTokens& m) {
  if (m.tokens.size() != m.trained.size()) std::abort();
  for (int32_t t : m.tokens) {
    if (t < 0 || t >= ByteTokenizer::kVocabSize) std::abort();
  }
  for (uint8_t b : m.trained) {
    if (b > 1) std::abort();
  }
}

// The messages of a {"messages": [{"role": ..., "content": ...}, ...]} object; false otherwise.
bool messages_of(const nlohmann::json& obj, std::vector<ChatMessage>& out) {
  if (!obj.is_object() || !obj.contains("messages") || !obj["messages"].is_array()) return false;
  for (const auto& m : obj["messages"]) {
    if (!m.is_object() || !m.contains("role") || !m.contains("content")) return false;
    if (!m["role"].is_string() || !m["content"].is_string()) return false;
    out.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string line(reinterpret_cast<const char*>(data), size);
  const ByteTokenizer tok;
  bool have_example = false;
  MaskedTokens example;
  for (ChatTemplate tpl : {ChatTemplate::kGeneric, ChatTemplate::kBitnet2b4t, ChatTemplate::kLlama3}) {
    try {
      MaskedTokens m = jsonl_line_to_example(line, tok, tpl, "fuzz.jsonl", 1);
      check(m);
      if (tpl == ChatTemplate::kGeneric) {
        example = std::move(m);
        have_example = true;
      }
    } catch (const DataError&) {
    }
  }
  nlohmann::json obj;
  try {
    obj = formats::parse_json_strict(line, "fuzz.jsonl");
  } catch (const formats::FormatError&) {
    return 0;
  }
  std::vector<ChatMessage> messages;
  if (!messages_of(obj, messages)) return 0;
  for (bool prompt : {false, true}) {
    try {
      MaskedTokens m = render_chat(messages, ChatTemplate::kGeneric, tok, prompt);
      check(m);
      if (!prompt && have_example && (m.tokens != example.tokens || m.trained != example.trained)) {
        std::abort();
      }
    } catch (const DataError&) {
    }
  }
  return 0;
}
