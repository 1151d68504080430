// Random token shards written piece by piece (see synthetic_shards.h).
#include "data/synthetic_shards.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "data/error.h"
#include "data/rng.h"
#include "data/token_dataset.h"
#include "formats/atomic_file.h"
#include "formats/token_shard.h"

namespace bitnet::data {
namespace {

constexpr int64_t kChunkTokens = 1 << 20;  // tokens generated and written at a time

}  // namespace

SyntheticShards write_synthetic_shards(const std::string& dir, const SyntheticShardOptions& o, const Tokenizer& tok,
                                       const std::function<bool()>& stop) {
  if (o.total_tokens < 1 || o.shard_tokens < 1 || o.max_document_tokens < 1) {
    throw DataError("synthetic shards need total_tokens, shard_tokens and max_document_tokens >= 1");
  }
  if (tok.type() != TokenizerType::kByte) throw DataError("synthetic shards are written for the byte tokenizer");
  const uint64_t fingerprint = tokenizer_fingerprint(tok);
  SplitMix64 rng(o.seed);
  SyntheticShards out;
  std::vector<uint8_t> bytes;
  while (out.tokens < o.total_tokens) {
    // This shard's documents: whole ones until shard_tokens (or the total) is reached.
    const int64_t budget = std::min(o.shard_tokens, o.total_tokens - out.tokens);
    std::vector<uint64_t> offsets{0};
    while (static_cast<int64_t>(offsets.back()) < budget) {
      const auto length = static_cast<int64_t>(1 + rng.uniform(static_cast<uint64_t>(o.max_document_tokens)));
      offsets.push_back(offsets.back() + static_cast<uint64_t>(std::min(length, budget - int64_t(offsets.back()))));
    }
    char name[32];
    std::snprintf(name, sizeof name, "shard-%05zu.bts", out.files.size());
    const std::string path = (std::filesystem::path(dir) / name).string();
    formats::AtomicFileWriter w(path);
    const std::string prefix =
        formats::token_shard_prefix(offsets, static_cast<uint64_t>(tok.vocab_size()), fingerprint, false);
    w.write(prefix.data(), prefix.size());
    for (int64_t done = 0; done < budget; done += kChunkTokens) {
      if (stop()) throw DataError("stopped while writing " + path);
      const int64_t n = std::min(kChunkTokens, budget - done);
      bytes.resize(static_cast<size_t>(4 * n));
      for (int64_t i = 0; i < n; i += 8) {  // one 64-bit draw gives 8 byte tokens
        uint64_t r = rng.next();
        for (int64_t k = i; k < std::min(i + 8, n); ++k, r >>= 8) {
          const size_t at = static_cast<size_t>(4 * k);
          bytes[at] = static_cast<uint8_t>(r & 0xff);
          bytes[at + 1] = bytes[at + 2] = bytes[at + 3] = 0;  // little-endian u32 below 256
        }
      }
      w.write(bytes.data(), bytes.size());
    }
    w.commit();
    out.files.push_back(path);
    out.documents += static_cast<int64_t>(offsets.size()) - 1;
    out.tokens += budget;
  }
  return out;
}

}  // namespace bitnet::data
