// Concatenation with EOS and window arithmetic (see packing.h for the picture).
#include "data/packing.h"

#include <algorithm>
#include <string>

#include "data/error.h"

namespace bitnet::data {

PackedTokens::PackedTokens(const std::vector<std::vector<int32_t>>& documents, int32_t eos_id)
    : num_documents_(static_cast<int64_t>(documents.size())) {
  size_t total = 0;
  for (const auto& d : documents) total += d.size() + 1;
  tokens_.reserve(total);
  for (const auto& d : documents) {
    tokens_.insert(tokens_.end(), d.begin(), d.end());
    tokens_.push_back(eos_id);
  }
}

int64_t packed_windows(int64_t n, int64_t documents, int64_t seq_len) {
  if (seq_len < 1) throw DataError("seq_len must be at least 1, got " + std::to_string(seq_len));
  if (n < seq_len + 1) {
    throw DataError("the corpus has " + std::to_string(n) + " tokens (" + std::to_string(documents) +
                    " documents with EOS) but one window of " + "seq_len + 1 = " + std::to_string(seq_len + 1) +
                    " tokens is needed: add text or lower seq_len");
  }
  return (n - 1) / seq_len;
}

int64_t PackedStream::num_windows(int64_t seq_len) const {
  return packed_windows(size(), num_documents(), seq_len);
}

void check_token_range(int64_t begin, int64_t count, int64_t size) {
  if (begin < 0 || count < 0 || begin + count > size) {
    throw DataError("tokens [" + std::to_string(begin) + ", " + std::to_string(begin + count) +
                    ") are outside the packed stream of " + std::to_string(size) + " tokens");
  }
}

void PackedTokens::read(int64_t begin, int64_t count, int32_t* out) const {
  check_token_range(begin, count, size());
  std::copy(tokens_.begin() + begin, tokens_.begin() + begin + count, out);
}

const int32_t* PackedTokens::window(int64_t k, int64_t seq_len) const {
  const int64_t count = num_windows(seq_len);
  if (k < 0 || k >= count) {
    throw DataError("window " + std::to_string(k) + " is out of range (there are " + std::to_string(count) +
                    " windows of seq_len " + std::to_string(seq_len) + ")");
  }
  return tokens_.data() + k * seq_len;
}

}  // namespace bitnet::data
