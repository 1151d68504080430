// Tokenizing one chunk of input (input_chunks.h) on its own: what a worker thread of a prepare
// does. Chunks are tokenized in any order and on any thread; the results are written in input
// order, so the shards do not depend on the number of threads.
#pragma once

#include <cstdint>
#include <vector>

#include "data/chat_template.h"
#include "data/jsonl.h"
#include "data/prepare/input_chunks.h"
#include "data/prepare/prepare_options.h"
#include "data/prepare/prepare_state.h"
#include "data/tokenizer.h"

namespace bitnet::data {

struct TokenizedChunk {
  std::vector<MaskedTokens> items;      // documents (no EOS) or examples, in input order
  std::vector<ResumePoint> after;       // where the input continues after each item
  std::vector<int64_t> skipped_before;  // bad lines of this chunk skipped before each item
  JsonlReport report;                   // jsonl, jsonl-text: lines, examples, skipped lines
  uint64_t bytes_done = 0;              // the chunk's Chunk::bytes_done
};

// Documents with no token are dropped (text drops empty documents before tokenizing already).
// DataError on a bad JSONL line under BadLines::kFail, naming file:line.
TokenizedChunk tokenize_chunk(const Chunk& chunk, const std::string& origin, const PrepareOptions& options,
                              const Tokenizer& tokenizer);

}  // namespace bitnet::data
