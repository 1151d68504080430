// Token shard reader and writer (layout in token_shard.h).
#include "formats/token_shard.h"

#include <cstring>

#include "formats/atomic_file.h"
#include "formats/error.h"
#include "formats/file_io.h"

namespace bitnet::formats {
namespace {

constexpr uint32_t kVersion = 1;
constexpr uint32_t kFlagMask = 1;

void put_u32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void put_u64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// Throws unless offsets/tokens/mask describe a valid shard; `path` and `base` name positions.
void check_contents(const std::string& path, const TokenShard& s, uint64_t offsets_at,
                    uint64_t tokens_at, uint64_t mask_at) {
  const uint64_t n = s.tokens.size();
  if (s.offsets.empty() || s.offsets.front() != 0) {
    throw_format_error(path, "the first document offset must be 0", offsets_at, "0",
                       s.offsets.empty() ? "no offsets" : std::to_string(s.offsets.front()));
  }
  for (size_t d = 1; d < s.offsets.size(); ++d) {
    if (s.offsets[d] < s.offsets[d - 1] || s.offsets[d] > n) {
      throw_format_error(path, "document offset " + std::to_string(d) + " is out of order",
                         offsets_at + 8 * d,
                         "a value in [" + std::to_string(s.offsets[d - 1]) + ", " + std::to_string(n) + "]",
                         std::to_string(s.offsets[d]));
    }
  }
  if (s.offsets.back() != n) {
    throw_format_error(path, "the last document offset must equal the token count",
                       offsets_at + 8 * (s.offsets.size() - 1), std::to_string(n),
                       std::to_string(s.offsets.back()));
  }
  for (uint64_t i = 0; i < n; ++i) {
    if (s.tokens[i] >= s.vocab_size) {
      throw_format_error(path, "token " + std::to_string(i) + " is outside the vocabulary",
                         tokens_at + 4 * i, "< " + std::to_string(s.vocab_size),
                         std::to_string(s.tokens[i]));
    }
  }
  if (!s.mask.empty()) {
    if (s.mask.size() != n) {
      throw_format_error(path, "the loss mask needs one entry per token", mask_at,
                         std::to_string(n), std::to_string(s.mask.size()));
    }
    for (uint64_t i = 0; i < n; ++i) {
      if (s.mask[i] > 1) {
        throw_format_error(path, "loss mask entry " + std::to_string(i) + " is not 0 or 1",
                           mask_at + i, "0 or 1", std::to_string(s.mask[i]));
      }
    }
  }
}

}  // namespace

void write_token_shard(const std::string& path, const TokenShard& shard) {
  const uint64_t d = shard.num_documents();
  check_contents(path, shard, kTokenShardHeaderBytes, kTokenShardHeaderBytes + 8 * (d + 1),
                 kTokenShardHeaderBytes + 8 * (d + 1) + 4 * shard.tokens.size());
  std::string header(kTokenShardMagic, 8);
  put_u32(header, kVersion);
  put_u32(header, shard.mask.empty() ? 0 : kFlagMask);
  put_u64(header, d);
  put_u64(header, shard.tokens.size());
  put_u64(header, shard.vocab_size);
  put_u64(header, shard.tokenizer_fingerprint);
  std::string body;
  body.reserve(8 * (d + 1) + 4 * shard.tokens.size());
  for (uint64_t o : shard.offsets) put_u64(body, o);
  for (uint32_t t : shard.tokens) put_u32(body, t);
  AtomicFileWriter w(path);
  w.write(header.data(), header.size());
  w.write(body.data(), body.size());
  if (!shard.mask.empty()) w.write(shard.mask.data(), shard.mask.size());
  w.commit();
}

TokenShard read_token_shard(const std::string& path) {
  const std::vector<uint8_t> bytes = read_file_bytes(path);
  const uint64_t size = bytes.size();
  if (size < kTokenShardHeaderBytes) {
    throw_format_error(path, "file too small for a token shard header", kNoOffset,
                       std::to_string(kTokenShardHeaderBytes) + " bytes or more", std::to_string(size) + " bytes");
  }
  const uint8_t* p = bytes.data();
  if (std::memcmp(p, kTokenShardMagic, 8) != 0) {
    throw_format_error(path, "not a token shard (bad magic)", 0, "\"BNTSHRD1\"", "other bytes");
  }
  const uint32_t version = load_u32_le(p + 8), flags = load_u32_le(p + 12);
  if (version != kVersion) throw_format_error(path, "unsupported version", 8, "1", std::to_string(version));
  if ((flags & ~kFlagMask) != 0) throw_format_error(path, "unknown flag bits", 12, "0 or 1", std::to_string(flags));
  const uint64_t d = load_u64_le(p + 16), n = load_u64_le(p + 24);
  // Expected size, every step overflow-checked, before anything is allocated.
  uint64_t offsets_bytes = 0, tokens_bytes = 0, expected = 0, d1 = 0;
  const bool ok = checked_add(d, 1, &d1) && checked_mul(d1, 8, &offsets_bytes) &&
                  checked_mul(n, 4, &tokens_bytes) &&
                  checked_add(kTokenShardHeaderBytes, offsets_bytes, &expected) &&
                  checked_add(expected, tokens_bytes, &expected) &&
                  ((flags & kFlagMask) == 0 || checked_add(expected, n, &expected));
  if (!ok || expected != size) {
    throw_format_error(path, "file size does not match the header's " + std::to_string(d) +
                       " documents and " + std::to_string(n) + " tokens", kNoOffset,
                       ok ? std::to_string(expected) + " bytes" : "sizes that fit in 64 bits",
                       std::to_string(size) + " bytes");
  }
  TokenShard s;
  s.vocab_size = load_u64_le(p + 32);
  s.tokenizer_fingerprint = load_u64_le(p + 40);
  const uint64_t offsets_at = kTokenShardHeaderBytes, tokens_at = offsets_at + offsets_bytes;
  const uint64_t mask_at = tokens_at + tokens_bytes;
  s.offsets.resize(d1);
  for (uint64_t i = 0; i < d1; ++i) s.offsets[i] = load_u64_le(p + offsets_at + 8 * i);
  s.tokens.resize(n);
  for (uint64_t i = 0; i < n; ++i) s.tokens[i] = load_u32_le(p + tokens_at + 4 * i);
  if (flags & kFlagMask) s.mask.assign(p + mask_at, p + mask_at + n);
  check_contents(path, s, offsets_at, tokens_at, mask_at);
  return s;
}

}  // namespace bitnet::formats
