// A training corpus as token ids, whatever its source format (the `data.format` key):
//   text    files split into documents (text_documents.h), encoded          → documents
//   jsonl   text / prompt+completion / messages lines (jsonl.h)             → masked examples
//   shards  our token shards (formats/token_shard.h), written by `bitnet data prepare`:
//           documents, or masked examples when the shard carries a loss mask
//   hdf5    a 1-D token dataset (+ optional offsets) or a 2-D one (hdf5_tokens.h) → documents
// Documents are pre-training text (packed with EOS between them); examples are fine-tuning rows
// whose mask says which tokens are trained.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/chat_template.h"
#include "data/jsonl.h"
#include "data/tokenizer.h"

namespace bitnet::data {

// The source formats above (data.format).
enum class DataFormat { kText, kJsonl, kShards, kHdf5 };

struct DatasetOptions {
  DataFormat format = DataFormat::kText;
  std::vector<std::string> paths;                       // files, globs; for shards also directories
  std::string separator_line = "%";                     // text
  ChatTemplate chat_template = ChatTemplate::kGeneric;  // jsonl
  BadLines bad_lines = BadLines::kFail;                 // jsonl
  int64_t max_line_bytes = kDefaultMaxLineBytes;        // jsonl: a longer line is a bad line
  std::string hdf5_dataset = "input_ids";               // hdf5
  std::string hdf5_offsets;                             // hdf5, optional
};

struct TokenDataset {
  bool masked = false;              // true: examples (fine-tuning); false: documents
  std::vector<MaskedTokens> items;  // documents have every token marked trained, no EOS
  JsonlReport jsonl;                // jsonl only
  int64_t num_tokens() const;
};

// A 64-bit fingerprint of a tokenizer's vocabulary and special ids (xxHash64), stored in token
// shards so a shard is never read with a different tokenizer.
uint64_t tokenizer_fingerprint(const Tokenizer& tokenizer);

// DataError unless the shard at `path`, with the vocab_size and fingerprint its header gives, was
// written by `tokenizer` (whose fingerprint is `expected`).
void check_shard_tokenizer(const std::string& path, uint64_t vocab_size, uint64_t fingerprint,
                           const Tokenizer& tokenizer, uint64_t expected);

// DataError on a missing file, bad line (per bad_lines), a shard written by another tokenizer,
// or an empty result. Every token is checked against the tokenizer's vocabulary.
TokenDataset load_token_dataset(const DatasetOptions& options, const Tokenizer& tokenizer);

// Shard files named by `paths`: a directory contributes its *.bts files (sorted), others are
// expanded like text paths.
std::vector<std::string> shard_files(const std::vector<std::string>& paths);

}  // namespace bitnet::data

namespace bitnet {
template <>
struct EnumNames<data::DataFormat> {
  static constexpr EnumName<data::DataFormat> table[] = {{data::DataFormat::kText, "text"},
                                                         {data::DataFormat::kJsonl, "jsonl"},
                                                         {data::DataFormat::kShards, "shards"},
                                                         {data::DataFormat::kHdf5, "hdf5"}};
};
}  // namespace bitnet
