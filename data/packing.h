// Pre-training packing: documents concatenated, each followed by EOS, cut into overlapping
// windows of seq_len + 1 tokens (inputs are the first seq_len, targets the last seq_len).
//
//   tokens:   d0 d0 d0 EOS d1 d1 EOS d2 ...        (N tokens)
//   window k: tokens[k*T .. k*T + T]  (T + 1 tokens, stride T, so consecutive windows share one)
//   windows:  floor((N - 1) / T); the tail that does not fill a window is not used.
#pragma once

#include <cstdint>
#include <vector>

namespace bitnet::data {

// Whole windows of seq_len T in a packed stream of `tokens` tokens (`documents` documents, each
// with its EOS): floor((tokens - 1) / T). DataError if T < 1 or tokens < T + 1 (both counts named).
int64_t packed_windows(int64_t tokens, int64_t documents, int64_t seq_len);

// A packed token stream: held in memory (PackedTokens) or read from token shards as windows need
// it (StreamedPackedTokens, shard_stream.h); the batch streams (batches.h) take either.
class PackedStream {
 public:
  virtual ~PackedStream() = default;
  virtual int64_t size() const = 0;  // tokens, EOS included
  virtual int64_t num_documents() const = 0;
  // Tokens [begin, begin + count) into out. DataError when the range is outside [0, size()).
  virtual void read(int64_t begin, int64_t count, int32_t* out) const = 0;
  // packed_windows(size(), num_documents(), seq_len).
  int64_t num_windows(int64_t seq_len) const;
};

class PackedTokens final : public PackedStream {
 public:
  PackedTokens() = default;
  PackedTokens(const std::vector<std::vector<int32_t>>& documents, int32_t eos_id);

  // Pointer to the T + 1 tokens of window k (k < num_windows(seq_len)).
  const int32_t* window(int64_t k, int64_t seq_len) const;
  void read(int64_t begin, int64_t count, int32_t* out) const override;

  const std::vector<int32_t>& tokens() const { return tokens_; }
  int64_t size() const override { return static_cast<int64_t>(tokens_.size()); }
  int64_t num_documents() const override { return num_documents_; }

 private:
  std::vector<int32_t> tokens_;
  int64_t num_documents_ = 0;
};

// DataError unless [begin, begin + count) lies in [0, size) (for PackedStream::read).
void check_token_range(int64_t begin, int64_t count, int64_t size);

}  // namespace bitnet::data
