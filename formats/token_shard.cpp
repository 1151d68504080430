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

// Throws unless offsets run from 0, non-decreasing, to n; offsets_at is their byte position.
void check_offsets(const std::string& path, const std::vector<uint64_t>& offsets, uint64_t n, uint64_t offsets_at) {
  if (offsets.empty() || offsets.front() != 0) {
    throw_format_error(path, "the first document offset must be 0", offsets_at, "0",
                       offsets.empty() ? "no offsets" : std::to_string(offsets.front()));
  }
  for (size_t d = 1; d < offsets.size(); ++d) {
    if (offsets[d] < offsets[d - 1] || offsets[d] > n) {
      throw_format_error(path, "document offset " + std::to_string(d) + " is out of order", offsets_at + 8 * d,
                         "a value in [" + std::to_string(offsets[d - 1]) + ", " + std::to_string(n) + "]",
                         std::to_string(offsets[d]));
    }
  }
  if (offsets.back() != n) {
    throw_format_error(path, "the last document offset must equal the token count",
                       offsets_at + 8 * (offsets.size() - 1), std::to_string(n), std::to_string(offsets.back()));
  }
}

// Throws unless offsets/tokens/mask describe a valid shard; the *_at arguments name positions.
void check_contents(const std::string& path, const TokenShard& s, uint64_t offsets_at, uint64_t tokens_at,
                    uint64_t mask_at) {
  const uint64_t n = s.tokens.size();
  check_offsets(path, s.offsets, n, offsets_at);
  for (uint64_t i = 0; i < n; ++i) {
    if (s.tokens[i] >= s.vocab_size) {
      throw_token_outside_vocabulary(path, i, tokens_at, s.vocab_size, s.tokens[i]);
    }
  }
  if (!s.masked && !s.mask.empty()) {
    throw_format_error(path, "a loss mask is given but the shard is not marked masked", mask_at, "no mask entries",
                       std::to_string(s.mask.size()));
  }
  if (s.masked) {
    if (s.mask.size() != n) {
      throw_format_error(path, "the loss mask needs one entry per token", mask_at, std::to_string(n),
                         std::to_string(s.mask.size()));
    }
    for (uint64_t i = 0; i < n; ++i) {
      if (s.mask[i] > 1) {
        throw_format_error(path, "loss mask entry " + std::to_string(i) + " is not 0 or 1", mask_at + i, "0 or 1",
                           std::to_string(s.mask[i]));
      }
    }
  }
}

// The 48-byte header, checked against the file's size.
struct ShardHeader {
  bool masked = false;
  uint64_t documents = 0, tokens = 0, vocab_size = 0, fingerprint = 0;
  uint64_t offsets_at = 0, tokens_at = 0, mask_at = 0;
};

ShardHeader parse_header(const std::string& path, const uint8_t* p, uint64_t size) {
  if (size < kTokenShardHeaderBytes) {
    throw_format_error(path, "file too small for a token shard header", kNoOffset,
                       std::to_string(kTokenShardHeaderBytes) + " bytes or more", std::to_string(size) + " bytes");
  }
  if (std::memcmp(p, kTokenShardMagic, 8) != 0) {
    throw_format_error(path, "not a token shard (bad magic)", 0, "\"BNTSHRD1\"", "other bytes");
  }
  const uint32_t version = load_u32_le(p + 8), flags = load_u32_le(p + 12);
  if (version != kVersion) throw_format_error(path, "unsupported version", 8, "1", std::to_string(version));
  if ((flags & ~kFlagMask) != 0) throw_format_error(path, "unknown flag bits", 12, "0 or 1", std::to_string(flags));
  const uint64_t d = load_u64_le(p + 16), n = load_u64_le(p + 24);
  // Expected size, every step overflow-checked, before anything is allocated.
  uint64_t offsets_bytes = 0, tokens_bytes = 0, expected = 0, d1 = 0;
  const bool ok = checked_add(d, 1, &d1) && checked_mul(d1, 8, &offsets_bytes) && checked_mul(n, 4, &tokens_bytes) &&
                  checked_add(kTokenShardHeaderBytes, offsets_bytes, &expected) &&
                  checked_add(expected, tokens_bytes, &expected) &&
                  ((flags & kFlagMask) == 0 || checked_add(expected, n, &expected));
  if (!ok || expected != size) {
    throw_format_error(path,
                       "file size does not match the header's " + std::to_string(d) + " documents and " +
                           std::to_string(n) + " tokens",
                       kNoOffset, ok ? std::to_string(expected) + " bytes" : "sizes that fit in 64 bits",
                       std::to_string(size) + " bytes");
  }
  ShardHeader h;
  h.masked = (flags & kFlagMask) != 0;
  h.documents = d;
  h.tokens = n;
  h.vocab_size = load_u64_le(p + 32);
  h.fingerprint = load_u64_le(p + 40);
  h.offsets_at = kTokenShardHeaderBytes;
  h.tokens_at = h.offsets_at + offsets_bytes;
  h.mask_at = h.tokens_at + tokens_bytes;
  return h;
}

std::vector<uint64_t> load_offsets(const uint8_t* p, uint64_t count) {
  std::vector<uint64_t> offsets(count);
  for (uint64_t i = 0; i < count; ++i) offsets[i] = load_u64_le(p + 8 * i);
  return offsets;
}

}  // namespace

void throw_token_outside_vocabulary(const std::string& path, uint64_t index, uint64_t tokens_at, uint64_t vocab_size,
                                    uint32_t token) {
  throw_format_error(path, "token " + std::to_string(index) + " is outside the vocabulary", tokens_at + 4 * index,
                     "< " + std::to_string(vocab_size), std::to_string(token));
}

std::string token_shard_prefix(const std::vector<uint64_t>& offsets, uint64_t vocab_size,
                               uint64_t tokenizer_fingerprint, bool masked) {
  if (offsets.empty()) throw FormatError("token shard: no document offsets (expected D + 1 >= 1)");
  std::string out(kTokenShardMagic, 8);
  out.reserve(kTokenShardHeaderBytes + 8 * offsets.size());
  put_u32(out, kVersion);
  put_u32(out, masked ? kFlagMask : 0);
  put_u64(out, offsets.size() - 1);
  put_u64(out, offsets.back());
  put_u64(out, vocab_size);
  put_u64(out, tokenizer_fingerprint);
  for (uint64_t o : offsets) put_u64(out, o);
  return out;
}

void write_token_shard(const std::string& path, const TokenShard& shard) {
  const uint64_t d = shard.num_documents();
  check_contents(path, shard, kTokenShardHeaderBytes, kTokenShardHeaderBytes + 8 * (d + 1),
                 kTokenShardHeaderBytes + 8 * (d + 1) + 4 * shard.tokens.size());
  const std::string prefix =
      token_shard_prefix(shard.offsets, shard.vocab_size, shard.tokenizer_fingerprint, shard.masked);
  std::string tokens;
  tokens.reserve(4 * shard.tokens.size());
  for (uint32_t t : shard.tokens) put_u32(tokens, t);
  AtomicFileWriter w(path);
  w.write(prefix.data(), prefix.size());
  w.write(tokens.data(), tokens.size());
  if (!shard.mask.empty()) w.write(shard.mask.data(), shard.mask.size());
  w.commit();
}

TokenShard read_token_shard(const std::string& path) {
  const std::vector<uint8_t> bytes = read_file_bytes(path);
  const uint8_t* p = bytes.data();
  const ShardHeader h = parse_header(path, p, bytes.size());
  TokenShard s;
  s.vocab_size = h.vocab_size;
  s.tokenizer_fingerprint = h.fingerprint;
  s.offsets = load_offsets(p + h.offsets_at, h.documents + 1);
  s.tokens.resize(h.tokens);
  for (uint64_t i = 0; i < h.tokens; ++i) s.tokens[i] = load_u32_le(p + h.tokens_at + 4 * i);
  s.masked = h.masked;
  if (h.masked) s.mask.assign(p + h.mask_at, p + h.mask_at + h.tokens);
  check_contents(path, s, h.offsets_at, h.tokens_at, h.mask_at);
  return s;
}

TokenShardIndex read_token_shard_index(const ReadOnlyFile& file) {
  uint8_t header[kTokenShardHeaderBytes] = {};
  if (file.size() >= kTokenShardHeaderBytes) file.read_at(0, kTokenShardHeaderBytes, header);
  const ShardHeader h = parse_header(file.path(), header, file.size());
  std::vector<uint8_t> offset_bytes(h.tokens_at - h.offsets_at);  // within the file's size
  file.read_at(h.offsets_at, offset_bytes.size(), offset_bytes.data());
  TokenShardIndex index;
  index.vocab_size = h.vocab_size;
  index.tokenizer_fingerprint = h.fingerprint;
  index.masked = h.masked;
  index.offsets = load_offsets(offset_bytes.data(), h.documents + 1);
  index.tokens_at = h.tokens_at;
  check_offsets(file.path(), index.offsets, h.tokens, h.offsets_at);
  return index;
}

}  // namespace bitnet::formats
