// Byte tokenizer: the identity on bytes plus three specials.
#include "data/byte_tokenizer.h"

#include <cstdio>

#include "data/error.h"

namespace bitnet::data {

namespace {

void check_id(int32_t id) {
  if (id < 0 || id >= ByteTokenizer::kVocabSize) {
    throw DataError("byte tokenizer: token id " + std::to_string(id) + " is outside the vocabulary [0, " +
                    std::to_string(ByteTokenizer::kVocabSize) + ")");
  }
}

}  // namespace

std::vector<int32_t> ByteTokenizer::encode(std::string_view text) const {
  std::vector<int32_t> ids;
  ids.reserve(text.size());
  for (char c : text) ids.push_back(static_cast<int32_t>(static_cast<unsigned char>(c)));
  return ids;
}

std::string ByteTokenizer::decode(const std::vector<int32_t>& ids) const {
  std::string text;
  text.reserve(ids.size());
  for (int32_t id : ids) {
    check_id(id);
    if (id < 256) text.push_back(static_cast<char>(static_cast<unsigned char>(id)));
  }
  return text;
}

std::string ByteTokenizer::token_text(int32_t id) const {
  check_id(id);
  if (id == kBos) return "<bos>";
  if (id == kEos) return "<eos>";
  if (id == kPad) return "<pad>";
  if (id >= 0x21 && id <= 0x7E) return std::string(1, static_cast<char>(id));
  char buf[8];
  std::snprintf(buf, sizeof buf, "<0x%02X>", static_cast<unsigned>(id));
  return buf;
}

}  // namespace bitnet::data
