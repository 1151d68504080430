// Chat templates rendered straight to masked token ids (see chat_template.h).
#include "data/chat_template.h"

#include "data/bpe_tokenizer.h"
#include "data/error.h"

namespace bitnet::data {

namespace {

std::string_view trim_ascii(std::string_view s) {
  const char* ws = " \t\n\r\f\v";
  const size_t begin = s.find_first_not_of(ws);
  if (begin == std::string_view::npos) return {};
  return s.substr(begin, s.find_last_not_of(ws) - begin + 1);
}

int32_t required_token(const Tokenizer& tokenizer, ChatTemplate chat_template, const std::string& token) {
  const auto* bpe = dynamic_cast<const BpeTokenizer*>(&tokenizer);
  if (bpe != nullptr) {
    if (auto id = bpe->token_id(token)) return *id;
  }
  throw DataError(std::string("chat template ") + enum_name(chat_template) + " needs the token " + token +
                  ", which the " + enum_name(tokenizer.type()) +
                  " tokenizer lacks: use the LLaMA 3 tokenizer.json of BitNet b1.58 2B4T, or " +
                  "chat_template: generic");
}

// "assistant" -> "Assistant", as Jinja's `capitalize` does for ASCII roles.
std::string capitalized(const std::string& role) {
  std::string out = role;
  for (size_t i = 0; i < out.size(); ++i) {
    const char c = out[i];
    if (i == 0 && c >= 'a' && c <= 'z') out[i] = static_cast<char>(c - 'a' + 'A');
    if (i > 0 && c >= 'A' && c <= 'Z') out[i] = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Appends the text `head + content` encoded as one string (so the tokens at the seam are those
// of the whole text), marking `train` on every token that holds a byte of `content`. Byte-level
// tokens decode to exactly their bytes, so each token's end offset is the running sum of lengths.
void append_turn_text(MaskedTokens& out, const Tokenizer& tokenizer, const std::string& head, std::string_view content,
                      bool train) {
  const std::vector<int32_t> ids = encode_plain(tokenizer, head + std::string(content));
  size_t end = 0;
  for (int32_t id : ids) {
    end += tokenizer.decode({id}).size();
    out.append(id, train && end > head.size());
  }
}

}  // namespace

std::string chat_template_jinja(ChatTemplate t) {
  switch (t) {
    case ChatTemplate::kGeneric:
      return "{{ bos_token }}{% for message in messages %}"
             "{{ '<|' + message['role'] + '|>\n' + message['content'] + eos_token }}{% endfor %}"
             "{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}";
    case ChatTemplate::kBitnet2b4t:  // BitNet b1.58 2B4T's tokenizer_config.json, verbatim
      return "{% set loop_messages = messages %}{% for message in loop_messages %}"
             "{% set content = message['role'] | capitalize + ': '+ message['content'] | trim + "
             "'<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}"
             "{{ content }}{% endfor %}{% if add_generation_prompt %}{{ 'Assistant: ' }}{% endif %}";
    case ChatTemplate::kLlama3:  // LLaMA 3 Instruct's tokenizer_config.json, verbatim
      return "{% set loop_messages = messages %}{% for message in loop_messages %}"
             "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ "
             "message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
             "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
             "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}"
             "{% endif %}";
  }
  return {};
}

int32_t end_of_turn_id(ChatTemplate t, const Tokenizer& tokenizer) {
  if (t == ChatTemplate::kGeneric) return tokenizer.eos_id();
  return required_token(tokenizer, t, "<|eot_id|>");
}

void MaskedTokens::append(const std::vector<int32_t>& ids, bool train) {
  tokens.insert(tokens.end(), ids.begin(), ids.end());
  trained.insert(trained.end(), ids.size(), train ? 1 : 0);
}

void MaskedTokens::append(int32_t id, bool train) {
  tokens.push_back(id);
  trained.push_back(train ? 1 : 0);
}

int64_t MaskedTokens::num_trained() const {
  int64_t n = 0;
  for (uint8_t t : trained) n += t;
  return n;
}

std::vector<int32_t> encode_plain(const Tokenizer& tokenizer, std::string_view text) {
  if (const auto* bpe = dynamic_cast<const BpeTokenizer*>(&tokenizer)) {
    return bpe->encode_ordinary(text);
  }
  return tokenizer.encode(text);
}

MaskedTokens render_chat(const std::vector<ChatMessage>& messages, ChatTemplate chat_template,
                         const Tokenizer& tokenizer, bool add_generation_prompt) {
  MaskedTokens out;
  out.append(tokenizer.bos_id(), false);
  if (chat_template == ChatTemplate::kGeneric) {
    for (const ChatMessage& m : messages) {
      if (m.role.empty()) throw DataError("a chat message has an empty role");
      const bool train = m.role == "assistant";
      out.append(encode_plain(tokenizer, "<|" + m.role + "|>\n"), false);
      out.append(encode_plain(tokenizer, m.content), train);
      out.append(tokenizer.eos_id(), train);
    }
    if (add_generation_prompt) out.append(encode_plain(tokenizer, "<|assistant|>\n"), false);
    return out;
  }
  const int32_t eot = required_token(tokenizer, chat_template, "<|eot_id|>");
  if (chat_template == ChatTemplate::kBitnet2b4t) {
    for (const ChatMessage& m : messages) {
      if (m.role.empty()) throw DataError("a chat message has an empty role");
      const bool train = m.role == "assistant";
      append_turn_text(out, tokenizer, capitalized(m.role) + ": ", trim_ascii(m.content), train);
      out.append(eot, train);
    }
    if (add_generation_prompt) append_turn_text(out, tokenizer, "Assistant: ", "", false);
    return out;
  }
  const int32_t start_header = required_token(tokenizer, chat_template, "<|start_header_id|>");
  const int32_t end_header = required_token(tokenizer, chat_template, "<|end_header_id|>");
  auto header = [&](const std::string& role) {
    out.append(start_header, false);
    out.append(encode_plain(tokenizer, role), false);
    out.append(end_header, false);
  };
  for (const ChatMessage& m : messages) {
    if (m.role.empty()) throw DataError("a chat message has an empty role");
    const bool train = m.role == "assistant";
    header(m.role);
    append_turn_text(out, tokenizer, "\n\n", trim_ascii(m.content), train);
    out.append(eot, train);
  }
  if (add_generation_prompt) {
    header("assistant");
    append_turn_text(out, tokenizer, "\n\n", "", false);
  }
  return out;
}

}  // namespace bitnet::data
