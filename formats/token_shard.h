// Token shards: a corpus tokenized once (`bitnet data prepare`) so training does not re-tokenize
// it. One file holds whole documents; a loss mask is present for fine-tuning data. Layout, all
// integers little-endian (also in docs/formats.md):
//
//   offset  size        field
//   0       8           magic "BNTSHRD1"
//   8       4   u32     version = 1
//   12      4   u32     flags: bit 0 = a loss mask follows the tokens; other bits 0
//   16      8   u64     D, number of documents
//   24      8   u64     N, number of tokens
//   32      8   u64     vocab_size of the tokenizer that wrote it (every token < vocab_size)
//   40      8   u64     tokenizer fingerprint (see data/tokenizer_fingerprint.h), 0 = unknown
//   48      8·(D+1) u64 document offsets: offsets[0] = 0, non-decreasing, offsets[D] = N
//   ...     4·N     u32 tokens; document d is tokens[offsets[d] .. offsets[d+1])
//   ...     N       u8  loss mask (only with flag bit 0): 1 = token is a training target
//   file size = 48 + 8·(D+1) + 4·N (+ N with the mask), exactly.
// Text documents are stored without EOS (packing adds it); fine-tuning examples are stored as
// rendered, end-of-turn tokens included.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "formats/file_io.h"

namespace bitnet::formats {

inline constexpr char kTokenShardMagic[8] = {'B', 'N', 'T', 'S', 'H', 'R', 'D', '1'};
inline constexpr uint64_t kTokenShardHeaderBytes = 48;

struct TokenShard {
  uint64_t vocab_size = 0;
  uint64_t tokenizer_fingerprint = 0;
  std::vector<uint64_t> offsets{0};  // D + 1 entries
  std::vector<uint32_t> tokens;
  std::vector<uint8_t> mask;  // one entry (0/1) per token when masked, else empty
  // The header's flag, and the one source of truth for it: a writer sets it with the mask, and
  // write_token_shard refuses a mask without it. A masked shard without tokens has an empty mask
  // and is still masked, so a reader can tell it from a text shard.
  bool masked = false;
  uint64_t num_documents() const { return offsets.size() - 1; }
};

// Writes atomically. FormatError if the shard is inconsistent (offsets, mask length, a token
// >= vocab_size) or the file cannot be written.
void write_token_shard(const std::string& path, const TokenShard& shard);

// The bytes before the tokens (header and document offsets) of a shard holding offsets.back()
// tokens, for writers that stream the tokens after it (4·N bytes, then the mask when `masked`).
// The caller keeps offsets valid (from 0, non-decreasing).
std::string token_shard_prefix(const std::vector<uint64_t>& offsets, uint64_t vocab_size,
                               uint64_t tokenizer_fingerprint, bool masked);

// Reads and validates everything (magic, version, flags, sizes against the file size with
// overflow-checked arithmetic, offsets, tokens < vocab_size, mask values) before returning.
TokenShard read_token_shard(const std::string& path);

// A shard's header and document offsets without its tokens, for readers that take tokens as they
// need them (data/shard_stream.h): 48 + 8·(D+1) bytes are read, whatever N is.
struct TokenShardIndex {
  uint64_t vocab_size = 0;
  uint64_t tokenizer_fingerprint = 0;
  bool masked = false;
  std::vector<uint64_t> offsets{0};  // D + 1 entries, validated as read_token_shard does
  uint64_t tokens_at = 0;            // byte offset of token 0 in the file
  uint64_t num_tokens() const { return offsets.back(); }
};

// Validates what read_token_shard validates except the tokens and the mask values (magic,
// version, flags, sizes against the file size with overflow-checked arithmetic, offsets
// non-decreasing from 0 to N). The caller checks each token it reads against vocab_size.
TokenShardIndex read_token_shard_index(const ReadOnlyFile& file);

// FormatError for token `index` of a shard (tokens starting at byte tokens_at) that is not below
// vocab_size: the message every shard reader gives.
[[noreturn]] void throw_token_outside_vocabulary(const std::string& path, uint64_t index, uint64_t tokens_at,
                                                 uint64_t vocab_size, uint32_t token);

}  // namespace bitnet::formats
