// Chat rendering for fine-tuning: messages → token ids plus a per-token "trained" mask. Only the
// assistant's content and its end-of-turn token are trained; system/user turns, role headers and
// BOS are context.
//
// Templates (message content never turns into special tokens, so a user cannot inject
// "<|eot_id|>" through data):
//  generic:      BOS, then per message "<|ROLE|>\n" + content + EOS        (any tokenizer)
//  bitnet-2b4t:  the chat_template of BitNet b1.58 2B4T's tokenizer_config.json: BOS, then per
//                message Capitalized(ROLE) + ": " + trim(content) + "<|eot_id|>"; the generation
//                prompt is "Assistant: ".
//  llama3:       the chat_template of LLaMA 3 Instruct: BOS, then per message
//                "<|start_header_id|>" ROLE "<|end_header_id|>\n\n" + trim(content) + "<|eot_id|>";
//                the generation prompt is the assistant header.
// trim removes leading/trailing ASCII whitespace, like Jinja's `trim` on ASCII text. The text
// between two special tokens is encoded as one string, as `apply_chat_template` does: in
// "Assistant: Hi" the space before "Hi" joins it in one token (" Hi"). A token is trained when it
// holds any byte of assistant content, so " Hi" is a target and "Assistant", ":" are not.
// The generation prompt is added only when asked (inference); training ends on the last turn.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "data/tokenizer.h"
#include "formats/enum_names.h"

namespace bitnet::data {

enum class ChatTemplate { kGeneric, kBitnet2b4t, kLlama3 };

// Named by EnumNames<ChatTemplate> (after the namespace): generic, bitnet-2b4t, llama3.

struct ChatMessage {
  std::string role;  // "system" | "user" | "assistant" (others are rendered as given)
  std::string content;
};

// Tokens with a per-token flag: trained[i] = 1 when token i is a target of the loss.
struct MaskedTokens {
  std::vector<int32_t> tokens;
  std::vector<uint8_t> trained;
  void append(const std::vector<int32_t>& ids, bool train);
  void append(int32_t id, bool train);
  int64_t num_trained() const;
};

// The template as Jinja for runtimes that render chats themselves (GGUF tokenizer.chat_template,
// tokenizer_config.json chat_template), with `bos_token`/`eos_token` standing for the tokenizer's:
// bitnet-2b4t and llama3 are those models' own templates (rendered by transformers, they give
// render_chat's ids), generic renders render_chat's text.
std::string chat_template_jinja(ChatTemplate chat_template);

// The token that ends a turn: EOS for generic, <|eot_id|> otherwise (DataError when the
// tokenizer lacks it).
int32_t end_of_turn_id(ChatTemplate chat_template, const Tokenizer& tokenizer);

// Encodes text as ordinary text: special-token strings in it stay text (for BPE); the byte
// tokenizer has no such strings.
std::vector<int32_t> encode_plain(const Tokenizer& tokenizer, std::string_view text);

// DataError if the template needs tokens the tokenizer lacks (bitnet-2b4t needs <|eot_id|>,
// llama3 also <|start_header_id|> and <|end_header_id|>: a LLaMA 3 tokenizer.json) or a message
// is empty of role.
MaskedTokens render_chat(const std::vector<ChatMessage>& messages, ChatTemplate chat_template,
                         const Tokenizer& tokenizer, bool add_generation_prompt = false);

}  // namespace bitnet::data

namespace bitnet {
template <>
struct EnumNames<data::ChatTemplate> {
  static constexpr EnumName<data::ChatTemplate> table[] = {{data::ChatTemplate::kGeneric, "generic"},
                                                           {data::ChatTemplate::kBitnet2b4t, "bitnet-2b4t"},
                                                           {data::ChatTemplate::kLlama3, "llama3"}};
};
}  // namespace bitnet
