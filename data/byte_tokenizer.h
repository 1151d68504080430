// The byte tokenizer (the default: it needs no files): byte b → id b for b in 0..255, then three
// specials BOS=256, EOS=257, PAD=258; vocabulary 259. Any byte string round-trips exactly, valid
// UTF-8 or not. Also declares make_tokenizer, the factory that builds a tokenizer by type name.
#pragma once

#include <memory>
#include <string>

#include "data/tokenizer.h"

namespace bitnet::data {

class ByteTokenizer final : public Tokenizer {
 public:
  static constexpr int32_t kBos = 256;
  static constexpr int32_t kEos = 257;
  static constexpr int32_t kPad = 258;
  static constexpr int64_t kVocabSize = 259;

  std::vector<int32_t> encode(std::string_view text) const override;
  std::string decode(const std::vector<int32_t>& ids) const override;
  int64_t vocab_size() const override { return kVocabSize; }
  int32_t bos_id() const override { return kBos; }
  int32_t eos_id() const override { return kEos; }
  int32_t pad_id() const override { return kPad; }
  TokenizerType type() const override { return TokenizerType::kByte; }
  // Printable ASCII (0x21..0x7E) as itself, other bytes as "<0xAB>", specials as <bos>/<eos>/<pad>.
  std::string token_text(int32_t id) const override;
};

// Builds a tokenizer by type: kByte (path ignored, may be empty) or kBpe (path = a Hugging Face
// tokenizer.json, or a model directory holding one).
std::unique_ptr<Tokenizer> make_tokenizer(TokenizerType type, const std::string& path);

}  // namespace bitnet::data
