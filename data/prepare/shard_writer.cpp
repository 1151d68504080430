// Filling and writing token shards (see shard_writer.h).
#include "data/prepare/shard_writer.h"

#include <filesystem>

#include "data/error.h"
#include "data/prepare/output_dir.h"
#include "formats/error.h"

namespace bitnet::data {

ShardWriter::ShardWriter(std::string dir, uint64_t vocab_size, uint64_t tokenizer_fingerprint, int64_t shard_tokens,
                         bool masked, size_t first_index)
    : dir_(std::move(dir)),
      vocab_size_(vocab_size),
      fingerprint_(tokenizer_fingerprint),
      shard_tokens_(shard_tokens),
      masked_(masked),
      next_index_(first_index) {
  start();
}

void ShardWriter::start() {
  shard_ = formats::TokenShard();
  shard_.vocab_size = vocab_size_;
  shard_.tokenizer_fingerprint = fingerprint_;
  shard_.masked = masked_;
}

bool ShardWriter::add(const MaskedTokens& item) {
  shard_.tokens.insert(shard_.tokens.end(), item.tokens.begin(), item.tokens.end());  // ids are >= 0
  if (masked_) shard_.mask.insert(shard_.mask.end(), item.trained.begin(), item.trained.end());
  shard_.offsets.push_back(shard_.tokens.size());
  return static_cast<int64_t>(shard_.tokens.size()) >= shard_tokens_ && flush();
}

bool ShardWriter::flush() {
  if (shard_.num_documents() == 0) return false;
  const std::string name = shard_file_name(next_index_);
  const std::string path = (std::filesystem::path(dir_) / name).string();
  try {
    formats::write_token_shard(path, shard_);
  } catch (const formats::FormatError& e) {
    throw DataError(e.what());
  }
  last_name_ = name;
  last_bytes_ = std::filesystem::file_size(path);
  ++next_index_;
  start();
  return true;
}

}  // namespace bitnet::data
