// Random pre-training shards for benchmarks of the data path (`bitnet bench data`): documents of
// random length (uniform in [1, max_document_tokens]) of random byte tokens (0..255), written as
// token shards (formats/token_shard.h) for the byte tokenizer. A shard is streamed to its file,
// so writing needs O(documents of one shard) memory whatever the total size.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "data/tokenizer.h"

namespace bitnet::data {

struct SyntheticShardOptions {
  int64_t total_tokens = 0;  // split into shards of at most shard_tokens (whole documents)
  int64_t shard_tokens = 64 << 20;
  int64_t max_document_tokens = 4000;
  uint64_t seed = 1;
};

struct SyntheticShards {
  std::vector<std::string> files;  // in order: shard-00000.bts, shard-00001.bts, ...
  int64_t documents = 0, tokens = 0;
};

// Writes the shards into `dir` (which must exist). `stop` is polled between chunks; when it
// returns true, writing ends with a DataError (files written so far stay: the caller owns dir).
// DataError on a bad option; FormatError when a file cannot be written.
SyntheticShards write_synthetic_shards(const std::string& dir, const SyntheticShardOptions& options,
                                       const Tokenizer& byte_tokenizer, const std::function<bool()>& stop);

}  // namespace bitnet::data
