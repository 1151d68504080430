// Writes the input to a temporary file and reads it with formats::read_token_shard; a shard that
// reads must satisfy everything the reader promises (offsets from 0 to N, non-decreasing, tokens
// below vocab_size, a 0/1 mask of one entry per token). FormatError is the only accepted failure.
// The streaming reader's read_token_shard_index reads the same file: it accepts every file the
// whole reader accepts, with the same header and offsets, and what it accepts has valid offsets.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "formats/error.h"
#include "formats/token_shard.h"
#include "fuzz_util.h"

using namespace bitnet::formats;

// The index of the file, or false when read_token_shard_index refuses it (FormatError).
bool read_index(const std::string& path, TokenShardIndex* index) {
  try {
    *index = read_token_shard_index(ReadOnlyFile(path));
  } catch (const FormatError&) {
    return false;
  }
  if (index->offsets.empty() || index->offsets.front() != 0) std::abort();
  for (size_t d = 1; d < index->offsets.size(); ++d) {
    if (index->offsets[d] < index->offsets[d - 1]) std::abort();
  }
  return true;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = bitnet::fuzz::write_temp_file(data, size, ".shard");
  TokenShardIndex index;
  const bool indexed = read_index(path, &index);
  try {
    TokenShard s = read_token_shard(path);
    if (!indexed || index.offsets != s.offsets || index.masked != s.masked || index.vocab_size != s.vocab_size ||
        index.tokenizer_fingerprint != s.tokenizer_fingerprint) {
      std::abort();
    }
    if (s.offsets.empty() || s.offsets.front() != 0 || s.offsets.back() != s.tokens.size()) std::abort();
    for (size_t d = 1; d < s.offsets.size(); ++d) {
      if (s.offsets[d] < s.offsets[d - 1]) std::abort();
    }
    for (uint32_t t : s.tokens) {
      if (t >= s.vocab_size) std::abort();
    }
    if (s.masked ? s.mask.size() != s.tokens.size() : !s.mask.empty()) std::abort();
    for (uint8_t m : s.mask) {
      if (m > 1) std::abort();
    }
  } catch (const FormatError&) {
  }
  return 0;
}
