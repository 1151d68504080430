// Streaming pre-training shards (see shard_stream.h for the contract and the choice of pread).
#include "data/shard_stream.h"

#include <algorithm>
#include <string>
#include <utility>

#include "data/error.h"
#include "data/packing.h"
#include "data/token_dataset.h"
#include "formats/error.h"

namespace bitnet::data {
namespace {

// A document is decoded for bits per byte at most this many tokens at a time.
constexpr int64_t kDecodeChunkTokens = int64_t{1} << 20;

}  // namespace

ShardCorpus::ShardCorpus(const std::vector<std::string>& files, const Tokenizer& tokenizer) {
  const uint64_t fingerprint = tokenizer_fingerprint(tokenizer);
  shards_.reserve(files.size());
  for (const std::string& path : files) {
    try {
      formats::ReadOnlyFile file(path);
      formats::TokenShardIndex index = formats::read_token_shard_index(file);
      shards_.push_back(Shard{std::move(file), std::move(index)});
    } catch (const formats::FormatError& e) {
      throw DataError(e.what());
    }
    const formats::TokenShardIndex& index = shards_.back().index;
    check_shard_tokenizer(path, index.vocab_size, index.tokenizer_fingerprint, tokenizer, fingerprint);
    if (shards_.size() > 1 && index.masked != masked_) {
      throw DataError(path + ": mixes fine-tuning shards (with a loss mask) and text shards");
    }
    masked_ = index.masked;
    first_document_.push_back(first_document_.back() + static_cast<int64_t>(index.offsets.size() - 1));
    num_tokens_ += static_cast<int64_t>(index.num_tokens());
  }
}

ShardCorpus::Location ShardCorpus::locate(int64_t document, int64_t begin) const {
  if (document < 0 || document >= num_documents()) {
    throw DataError("document " + std::to_string(document) + " is out of range (the shards hold " +
                    std::to_string(num_documents()) + ")");
  }
  const auto it = std::upper_bound(first_document_.begin(), first_document_.end(), document);
  const auto shard = static_cast<size_t>(it - first_document_.begin() - 1);
  const auto local = static_cast<size_t>(document - first_document_[shard]);
  return {shard, shards_[shard].index.offsets[local] + static_cast<uint64_t>(begin)};
}

int64_t ShardCorpus::document_length(int64_t document) const {
  const Location at = locate(document, 0);
  const auto local = static_cast<size_t>(document - first_document_[at.shard]);
  const std::vector<uint64_t>& offsets = shards_[at.shard].index.offsets;
  return static_cast<int64_t>(offsets[local + 1] - offsets[local]);
}

void ShardCorpus::read(const std::vector<Piece>& pieces) const {
  std::vector<uint8_t> bytes;
  size_t i = 0;
  while (i < pieces.size()) {
    // The run of pieces [i, j) lies back to back in one file: one read.
    const Location first = locate(pieces[i].document, pieces[i].begin);
    uint64_t end = first.token + static_cast<uint64_t>(pieces[i].count);
    size_t j = i + 1;
    for (; j < pieces.size(); ++j) {
      const Location next = locate(pieces[j].document, pieces[j].begin);
      if (next.shard != first.shard || next.token != end) break;
      end += static_cast<uint64_t>(pieces[j].count);
    }
    const Shard& shard = shards_[first.shard];
    bytes.resize(4 * (end - first.token));
    try {
      shard.file.read_at(shard.index.tokens_at + 4 * first.token, bytes.size(), bytes.data());
    } catch (const formats::FormatError& e) {
      throw DataError(e.what());
    }
    const uint8_t* p = bytes.data();
    uint64_t token = first.token;
    for (; i < j; ++i) {
      for (int64_t k = 0; k < pieces[i].count; ++k, ++token, p += 4) {
        const uint32_t id = formats::load_u32_le(p);
        if (id >= shard.index.vocab_size) {
          try {
            formats::throw_token_outside_vocabulary(shard.file.path(), token, shard.index.tokens_at,
                                                    shard.index.vocab_size, id);
          } catch (const formats::FormatError& e) {
            throw DataError(e.what());
          }
        }
        pieces[i].out[k] = static_cast<int32_t>(id);
      }
    }
  }
}

StreamedPackedTokens::StreamedPackedTokens(std::shared_ptr<const ShardCorpus> corpus, std::vector<int64_t> documents,
                                           int32_t eos_id)
    : corpus_(std::move(corpus)), documents_(std::move(documents)), eos_id_(eos_id) {
  ends_.reserve(documents_.size());
  int64_t end = 0;
  for (int64_t d : documents_) {
    end += corpus_->document_length(d) + 1;  // the EOS after it
    ends_.push_back(end);
  }
}

void StreamedPackedTokens::read(int64_t begin, int64_t count, int32_t* out) const {
  check_token_range(begin, count, size());
  std::vector<ShardCorpus::Piece> pieces;
  std::vector<int64_t> eos_at;  // positions in out that hold an EOS
  // The document holding position `begin`: the first whose end lies past it.
  auto i = static_cast<size_t>(std::upper_bound(ends_.begin(), ends_.end(), begin) - ends_.begin());
  int64_t pos = begin, written = 0;
  while (written < count) {
    const int64_t start = i == 0 ? 0 : ends_[i - 1];
    const int64_t length = ends_[i] - start - 1;  // tokens before the EOS
    const int64_t offset = pos - start;
    if (offset < length) {
      const int64_t n = std::min(length - offset, count - written);
      pieces.push_back({documents_[i], offset, n, out + written});
      written += n;
      pos += n;
    }
    if (written < count) {  // the EOS of document i
      eos_at.push_back(written++);
      ++pos;
    }
    ++i;
  }
  corpus_->read(pieces);
  for (int64_t k : eos_at) out[k] = eos_id_;
}

double streamed_bytes_per_target(const StreamedPackedTokens& tokens, const Tokenizer& tokenizer) {
  const ShardCorpus& corpus = tokens.corpus();
  size_t bytes = 0, targets = 0;
  std::vector<int32_t> chunk;
  for (int64_t d : tokens.documents()) {
    const int64_t length = corpus.document_length(d);
    for (int64_t begin = 0; begin < length; begin += kDecodeChunkTokens) {
      chunk.resize(static_cast<size_t>(std::min(kDecodeChunkTokens, length - begin)));
      corpus.read({{d, begin, static_cast<int64_t>(chunk.size()), chunk.data()}});
      bytes += tokenizer.decode(chunk).size();
    }
    targets += static_cast<size_t>(length) + 1;  // its tokens and the EOS after it
  }
  return targets > 0 && bytes > 0 ? double(bytes) / double(targets) : 1.0;
}

DatasetStats shard_corpus_stats(const ShardCorpus& corpus, int64_t seq_len) {
  if (seq_len < 1) throw DataError("seq_len must be at least 1, got " + std::to_string(seq_len));
  if (corpus.masked()) throw DataError("statistics from offsets alone are for shards without a loss mask");
  DatasetStats s;
  for (int64_t d = 0; d < corpus.num_documents(); ++d) {
    const int64_t n = corpus.document_length(d);
    ++s.documents;
    s.tokens += n;
    s.longest = std::max(s.longest, n);
    if (n > seq_len + 1) ++s.truncated;
  }
  s.trained_tokens = s.tokens;  // documents train every token
  return s;
}

}  // namespace bitnet::data
