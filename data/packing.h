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

class PackedTokens {
 public:
  PackedTokens() = default;
  PackedTokens(const std::vector<std::vector<int32_t>>& documents, int32_t eos_id);

  // Number of whole windows for seq_len T; DataError if T < 1 or the corpus has fewer than
  // T + 1 tokens (the message gives both counts).
  int64_t num_windows(int64_t seq_len) const;
  // Pointer to the T + 1 tokens of window k (k < num_windows(seq_len)).
  const int32_t* window(int64_t k, int64_t seq_len) const;

  const std::vector<int32_t>& tokens() const { return tokens_; }
  int64_t size() const { return static_cast<int64_t>(tokens_.size()); }
  int64_t num_documents() const { return num_documents_; }

 private:
  std::vector<int32_t> tokens_;
  int64_t num_documents_ = 0;
};

}  // namespace bitnet::data
