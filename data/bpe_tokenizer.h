// Byte-level BPE from a Hugging Face tokenizer.json (GPT-2 / LLaMA 3 style), encode and decode.
//
// Encoding, as the `tokenizers` library does it for these files:
//  1. added tokens (e.g. <|begin_of_text|>, <|eot_id|>) are cut out of the text first, leftmost
//     and longest first, and map straight to their ids;
//  2. each stretch in between is pre-tokenized: the `Split` regex (behaviour "Isolated"), or the
//     GPT-2 regex when the pre-tokenizer is a ByteLevel with use_regex; then every piece's bytes
//     are written in the byte-level alphabet (byte_level.h);
//  3. each piece is merged by BPE: with `ignore_merges` a piece that is itself in the vocabulary
//     is one token; otherwise start from single bytes and repeatedly merge the adjacent pair with
//     the lowest merge rank (leftmost first on ties) until no pair has a rank.
// Supported: model.type "BPE" with no unk/dropout/prefix/suffix options, normalizer null,
// pre_tokenizer Split(Regex|String, Isolated) + ByteLevel(use_regex false), or ByteLevel alone,
// add_prefix_space false. Anything else is a DataError naming the key, rather than silently
// different ids.
// Merge rank r is the r-th entry of model.merges; a pair listed twice is refused, as are two
// tokens with one id and one token with two ids (an added token repeating its model.vocab entry,
// same text and id, is fine). `tokenizers` accepts such files (the last rank wins; a shared id
// decodes as one of its tokens), which would make our ids differ silently.
// The JSON itself follows formats/json_read.h: no duplicate keys, at most 64 levels of nesting.
//
// Specials: BOS/EOS/PAD come from tokenizer_config.json next to tokenizer.json when present
// (bos_token, eos_token, pad_token), else from a TemplateProcessing post-processor (BOS), else
// from well-known names (<|begin_of_text|>, <s>, <|endoftext|> / <|end_of_text|>, </s>); PAD
// defaults to EOS. decode() skips added tokens marked `special`.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "data/regex_splitter.h"
#include "data/tokenizer.h"

namespace bitnet::data {

// The pre-tokenizer regexes that llama.cpp knows by a `tokenizer.ggml.pre` name: "llama-bpe"
// (LLaMA 3) and "gpt-2". Empty / nullopt when the other side has no name for it.
std::string gguf_pre_name(const std::string& split_pattern);
std::optional<std::string> split_pattern_for_gguf_pre(const std::string& name);

class BpeTokenizer final : public Tokenizer {
 public:
  // Reads `path` (a tokenizer.json); DataError naming the file and key on anything unsupported.
  static std::unique_ptr<BpeTokenizer> from_file(const std::string& path);
  // From the JSON text itself; `config_json` is tokenizer_config.json's text or empty.
  static std::unique_ptr<BpeTokenizer> from_json(const std::string& json_text, const std::string& config_json,
                                                 const std::string& origin);

  std::vector<int32_t> encode(std::string_view text) const override;
  // Like encode(), but added-token text in the input is ordinary text (no specials injected).
  std::vector<int32_t> encode_ordinary(std::string_view text) const;
  std::string decode(const std::vector<int32_t>& ids) const override;
  int64_t vocab_size() const override { return static_cast<int64_t>(id_to_token_.size()); }
  int32_t bos_id() const override { return bos_id_; }
  int32_t eos_id() const override { return eos_id_; }
  int32_t pad_id() const override { return pad_id_; }
  TokenizerType type() const override { return TokenizerType::kBpe; }
  // The vocabulary entry (byte-level text, or the added token's content).
  std::string token_text(int32_t id) const override;

  // Id of a token given as vocabulary text (e.g. "<|eot_id|>"), if any.
  std::optional<int32_t> token_id(const std::string& token) const;

  // What an exporter needs to describe this tokenizer elsewhere (GGUF "gpt2" vocabularies):
  // merges in rank order as "left right", the pre-tokenizer split regex ("" = none), whether
  // whole-vocabulary pieces skip merging, and which ids are added / special tokens.
  std::vector<std::string> merges_in_rank_order() const;
  const std::string& split_pattern() const { return split_pattern_; }
  bool ignore_merges() const { return ignore_merges_; }
  bool is_added(int32_t id) const;
  bool is_special(int32_t id) const;
  // Whether encoding for a model prepends BOS, as transformers does with this file: whether the
  // post-processor (TemplateProcessing, possibly inside a Sequence) starts with the BOS token.
  // (transformers 5 ignores tokenizer_config.json's add_bos_token for these fast tokenizers.)
  bool adds_bos() const { return adds_bos_; }

  // The inverse: a tokenizer from a vocabulary given as parts (a GGUF "gpt2" vocabulary). Ids
  // listed in `added` are added tokens (`special` per entry); tokens "" are holes. DataError on
  // anything load() would refuse.
  struct Parts {
    std::vector<std::string> tokens;              // by id
    std::vector<std::string> merges;              // "left right", rank order
    std::vector<std::pair<int32_t, bool>> added;  // (id, special)
    std::string split_pattern;
    bool ignore_merges = false;
    int32_t bos_id = -1, eos_id = -1, pad_id = -1;
  };
  static std::unique_ptr<BpeTokenizer> from_parts(const Parts& parts, const std::string& origin);

 private:
  friend struct BpeLoader;  // the steps of load() (bpe_tokenizer.cpp)
  BpeTokenizer() = default;
  static std::unique_ptr<BpeTokenizer> load(const std::string& json_text, const std::string& config_json,
                                            const std::string& origin);
  struct MergeKey {
    int32_t left, right;
    bool operator==(const MergeKey& o) const { return left == o.left && right == o.right; }
  };
  struct MergeKeyHash {
    size_t operator()(const MergeKey& k) const {
      return std::hash<uint64_t>()((static_cast<uint64_t>(static_cast<uint32_t>(k.left)) << 32) |
                                   static_cast<uint32_t>(k.right));
    }
  };
  struct Merge {
    int32_t rank, result;
  };
  struct AddedToken {
    std::string content;
    int32_t id;
    bool special;
  };

  void encode_piece(std::string_view piece, std::vector<int32_t>& out) const;
  void encode_text(std::string_view text, std::vector<int32_t>& out) const;

  std::unordered_map<std::string, int32_t> token_to_id_;
  std::vector<std::string> id_to_token_;  // "" where an id has no token
  std::vector<uint8_t> is_special_;       // per id: an added token marked special
  std::vector<uint8_t> is_added_;         // per id: an added token (content is raw text)
  std::unordered_map<MergeKey, Merge, MergeKeyHash> merges_;
  std::array<int32_t, 256> byte_ids_{};  // id of each single byte's token, -1 if absent
  std::vector<AddedToken> added_;        // sorted longest first
  std::unique_ptr<RegexSplitter> splitter_;
  bool ignore_merges_ = false;
  std::string split_pattern_;
  int32_t bos_id_ = -1, eos_id_ = -1, pad_id_ = -1;
  bool adds_bos_ = false;
  std::string origin_;
};

}  // namespace bitnet::data
