// Pre-training token shards read as batches need them, so a corpus larger than memory trains.
//
// Opening a corpus reads each shard's header and document offsets only (formats/token_shard.h
// validates them against the file's size) and checks the tokenizer fingerprint; tokens are read
// window by window with pread and checked against vocab_size as they are read (a bad token is a
// DataError naming the shard file and the token's index in it, when a batch first reaches it).
// Why pread and not mmap: the tokens read are copied into a window-sized buffer, so the
// process's resident memory stays at that buffer while the kernel's page cache (not counted in
// RSS, given back under pressure) holds the file; touched pages of a mapping would count as
// file-backed RSS growing towards the corpus size, and a file truncated under a mapping kills
// the process with SIGBUS where a short pread is an error message.
//
// Memory is independent of the corpus's size apart from O(documents) indexes: per document the
// shard's offset (8 bytes), and per document of a split its id and packed end (16 bytes).
//
// StreamedPackedTokens is the PackedTokens (each document followed by EOS) of the chosen documents
// in the given order, read lazily; TrainBatches and EvalBatches (batches.h) over it give exactly
// the windows, order and cursor they give over the documents loaded whole.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/dataset_stats.h"
#include "data/packing.h"
#include "data/tokenizer.h"
#include "formats/file_io.h"
#include "formats/token_shard.h"

namespace bitnet::data {

// The documents of a list of shard files, numbered across files in order (document 0 of the
// second file follows the last of the first). Reads are thread-safe.
class ShardCorpus {
 public:
  // Opens every file and reads its index. DataError on an unreadable or malformed file, a shard
  // written by another tokenizer, or fine-tuning shards (with a loss mask) mixed with text ones.
  ShardCorpus(const std::vector<std::string>& files, const Tokenizer& tokenizer);

  bool masked() const { return masked_; }  // the shards carry a loss mask (fine-tuning examples)
  int64_t num_documents() const { return first_document_.back(); }
  int64_t num_tokens() const { return num_tokens_; }
  int64_t document_length(int64_t document) const;
  int64_t num_files() const { return static_cast<int64_t>(shards_.size()); }

  // A piece of a document: its tokens [begin, begin + count) go to out[0 .. count).
  struct Piece {
    int64_t document = 0, begin = 0, count = 0;
    int32_t* out = nullptr;
  };
  // Reads the pieces, one pread per run of pieces that lie back to back in one file. DataError
  // naming the file and the token's index in it for a token outside the vocabulary.
  void read(const std::vector<Piece>& pieces) const;

 private:
  struct Shard {
    formats::ReadOnlyFile file;
    formats::TokenShardIndex index;
  };
  struct Location {
    size_t shard;
    uint64_t token;  // index in the shard of the piece's first token
  };
  Location locate(int64_t document, int64_t begin) const;

  std::vector<Shard> shards_;
  std::vector<int64_t> first_document_{0};  // per shard, then the total
  int64_t num_tokens_ = 0;
  bool masked_ = false;
};

// Documents `documents` of a corpus packed in that order, each followed by EOS: the token stream
// PackedTokens holds for them, read on demand.
class StreamedPackedTokens final : public PackedStream {
 public:
  StreamedPackedTokens(std::shared_ptr<const ShardCorpus> corpus, std::vector<int64_t> documents, int32_t eos_id);

  int64_t size() const override { return ends_.empty() ? 0 : ends_.back(); }
  int64_t num_documents() const override { return static_cast<int64_t>(documents_.size()); }
  // Reads the documents' pieces of the range in one ShardCorpus::read (DataError as there).
  void read(int64_t begin, int64_t count, int32_t* out) const override;

  const ShardCorpus& corpus() const { return *corpus_; }
  const std::vector<int64_t>& documents() const { return documents_; }

 private:
  std::shared_ptr<const ShardCorpus> corpus_;
  std::vector<int64_t> documents_;
  std::vector<int64_t> ends_;  // ends_[i]: stream position just past document i's EOS
  int32_t eos_id_;
};

// UTF-8 bytes per target token of packed documents (each predicts its tokens and the EOS after
// it), as bytes_per_target of the in-memory path computes it for documents: every document is
// read and decoded, a bounded chunk at a time (decoding is a concatenation per token, so chunks
// add up exactly). 1 when there is no text.
double streamed_bytes_per_target(const StreamedPackedTokens& tokens, const Tokenizer& tokenizer);

// dataset_stats of a pre-training corpus from its document offsets alone (no token is read).
// DataError if seq_len < 1 or the corpus is masked (fine-tuning statistics need the mask).
DatasetStats shard_corpus_stats(const ShardCorpus& corpus, int64_t seq_len);

}  // namespace bitnet::data
