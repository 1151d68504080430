// Fills token shards (formats/token_shard.h) with whole documents or examples, in the order they
// are given, and writes each one atomically once it holds shard_tokens tokens.
#pragma once

#include <cstdint>
#include <string>

#include "data/chat_template.h"
#include "formats/token_shard.h"

namespace bitnet::data {

class ShardWriter {
 public:
  // Shards are named shard_file_name(first_index), shard_file_name(first_index + 1), ... in dir.
  ShardWriter(std::string dir, uint64_t vocab_size, uint64_t tokenizer_fingerprint, int64_t shard_tokens, bool masked,
              size_t first_index);

  // Adds one item; true when it filled the shard, which was then written.
  bool add(const MaskedTokens& item);
  // Writes the shard being filled if it holds anything; true when it wrote one.
  bool flush();

  const std::string& last_name() const { return last_name_; }  // of the last shard written
  uint64_t last_bytes() const { return last_bytes_; }

 private:
  void start();

  std::string dir_;
  uint64_t vocab_size_, fingerprint_;
  int64_t shard_tokens_;
  bool masked_;
  size_t next_index_;
  formats::TokenShard shard_;
  std::string last_name_;
  uint64_t last_bytes_ = 0;
};

}  // namespace bitnet::data
