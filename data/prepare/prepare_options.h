// What `bitnet data prepare` is asked to do: the inputs, the output directory, how the inputs
// are read and tokenized, and how the work is run (threads, piece size, restart).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/chat_template.h"
#include "data/jsonl.h"

namespace bitnet::data {

// text: documents cut by a separator line (text_documents.h). jsonl: fine-tuning examples with a
// loss mask (jsonl.h). jsonl-text: one {"text": ...} object per line, each a pre-training
// document (JsonlRows::kTextDocuments), as Hugging Face datasets writes a text column.
enum class PrepareFormat { kText, kJsonl, kJsonlText };

struct PrepareOptions {
  std::vector<std::string> inputs;  // files or glob patterns, read in this order
  std::string out;                  // output directory
  std::string tokenizer = "byte";   // "byte", or a tokenizer.json / model directory (bpe)
  PrepareFormat format = PrepareFormat::kText;
  std::string separator = "%";                          // text: the line that ends a document ("" = blank lines)
  ChatTemplate chat_template = ChatTemplate::kGeneric;  // jsonl messages
  BadLines bad_lines = BadLines::kFail;                 // jsonl, jsonl-text
  int64_t max_line_bytes = kDefaultMaxLineBytes;        // jsonl, jsonl-text
  int64_t shard_tokens = int64_t{64} << 20;             // a shard is written once it holds this many tokens
  int threads = 0;                                      // tokenizing threads; 0 = the hardware threads
  int64_t chunk_bytes = int64_t{1} << 20;               // input bytes per piece of work (whole documents)
  bool restart = false;                                 // discard a previous prepare in `out` first
  int64_t stop_after_shards = 0;                        // stop as if killed once this run wrote N shards; 0 never
};

// DataError naming the option when a value is out of range.
void validate(const PrepareOptions& options);

// Whether the shards carry a loss mask (fine-tuning examples) rather than plain documents.
inline bool prepares_examples(PrepareFormat format) {
  return format == PrepareFormat::kJsonl;
}

}  // namespace bitnet::data

namespace bitnet {
template <>
struct EnumNames<data::PrepareFormat> {
  static constexpr EnumName<data::PrepareFormat> table[] = {{data::PrepareFormat::kText, "text"},
                                                            {data::PrepareFormat::kJsonl, "jsonl"},
                                                            {data::PrepareFormat::kJsonlText, "jsonl-text"}};
};
}  // namespace bitnet
