// `bitnet data prepare`: text or JSONL files (plain or gzip) tokenized once into token shards and
// a dataset.json index. The inputs are read in chunks of whole documents (input_chunks.h) that a
// pool of threads tokenizes (chunk_tokens.h) while the calling thread writes the results in
// input order (shard_writer.h), so the shards are the same whatever the number of threads.
// After each shard a progress file records where the input continues (prepare_state.h): a
// prepare that was interrupted and is started again with the same inputs and options keeps its
// shards and continues after them (output_dir.h); dataset.json, written last, marks it complete.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "data/prepare/prepare_options.h"
#include "data/tokenizer.h"

namespace bitnet::data {

// Where a running prepare stands, for a progress line.
struct PrepareStatus {
  uint64_t bytes_done = 0;      // bytes of the input files written into shards (or being tokenized)
  uint64_t bytes_total = 0;     // total size of the input files
  uint64_t bytes_at_start = 0;  // bytes_done when this run started (resumed runs skip to it)
  int64_t documents = 0, tokens = 0, skipped_lines = 0;
  size_t shards = 0;
  double seconds = 0;  // since this run started
};

struct PrepareResult {
  bool already_complete = false;  // the output directory holds this prepare, finished
  bool stopped = false;           // stopped by options.stop_after_shards
  size_t resumed_shards = 0;      // shards already written by an interrupted run
  PrepareStatus status;           // at the end
  std::vector<std::string> shards;
  bool masked = false;  // fine-tuning examples (with a loss mask), not documents
  TokenizerType tokenizer_type = TokenizerType::kByte;
  int threads = 0;
  std::string hint;  // advice on the options, printed after the summary (or empty)
};

struct PrepareCallbacks {
  std::function<void(const PrepareStatus&)> progress;    // about twice a second
  std::function<void(const std::string&)> skipped_line;  // "file:line: reason" of skipped bad lines
};

// DataError on bad options or input (naming the file, line or option and what is wrong), or
// when the output directory holds another prepare (naming what differs).
PrepareResult prepare_shards(const PrepareOptions& options, const PrepareCallbacks& callbacks = {});

}  // namespace bitnet::data
