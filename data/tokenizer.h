// The tokenizer interface the trainer and the deployment runtime share: text ↔ token ids, the
// special ids, and a printable piece per id (for vocabulary export). Implementations: byte
// (byte_tokenizer.h) and Hugging Face byte-level BPE (bpe_tokenizer.h). Implementations hold no
// mutable state, so one tokenizer may encode from several threads at once.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "formats/enum_names.h"

namespace bitnet::data {

// The implementations (tokenizer.type): bytes, or a Hugging Face BPE tokenizer.json.
enum class TokenizerType { kByte, kBpe };

class Tokenizer {
 public:
  virtual ~Tokenizer();
  // Text → ids, without BOS/EOS (callers add the specials their format needs).
  virtual std::vector<int32_t> encode(std::string_view text) const = 0;
  // Ids → text; special ids (BOS/EOS/PAD) are skipped. Throws DataError on an id outside the vocab.
  virtual std::string decode(const std::vector<int32_t>& ids) const = 0;
  virtual int64_t vocab_size() const = 0;
  virtual int32_t bos_id() const = 0;
  virtual int32_t eos_id() const = 0;
  virtual int32_t pad_id() const = 0;
  virtual TokenizerType type() const = 0;
  // A printable piece for `id` (for vocabulary export); throws DataError outside the vocab.
  virtual std::string token_text(int32_t id) const = 0;
};

}  // namespace bitnet::data

namespace bitnet {
template <>
struct EnumNames<data::TokenizerType> {
  static constexpr EnumName<data::TokenizerType> table[] = {{data::TokenizerType::kByte, "byte"},
                                                            {data::TokenizerType::kBpe, "bpe"}};
};
}  // namespace bitnet
