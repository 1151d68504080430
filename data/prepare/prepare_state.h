// What a prepare records so that it can be resumed, and what it is checked against: its identity
// (everything the shards depend on) and, after each shard, the progress file in the output
// directory, written atomically: the shards so far, the counts, and where the input continues.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/prepare/prepare_options.h"
#include "data/tokenizer.h"

namespace bitnet::data {

inline constexpr const char* kPrepareProgressFile = "prepare-progress.json";
inline constexpr const char* kPrepareIndexFile = "dataset.json";

// The options that change the shards (format and its reading options, shard size), the
// tokenizer's fingerprint, and every input's absolute path, size and modification time. Thread
// count and piece size are not part of it: the shards do not depend on them.
nlohmann::json prepare_identity(const PrepareOptions& options, const Tokenizer& tokenizer,
                                uint64_t tokenizer_fingerprint, const std::vector<std::string>& files);

// One line per difference between a recorded identity and the current one, e.g.
// `format: was "jsonl", now "text"` or `input 2 (/c/b.txt): size was 10 bytes, now 12`; empty
// when they are equal.
std::vector<std::string> identity_differences(const nlohmann::json& recorded, const nlohmann::json& current);

// Where the input continues: the next document starts at `offset` of file `file`.
struct ResumePoint {
  int64_t file = 0;     // index in the expanded list of inputs
  uint64_t offset = 0;  // content offset in that file (decompressed bytes for gzip)
  int64_t line = 0;     // lines before `offset` (JSONL line numbers continue from here)
};

struct PrepareState {
  nlohmann::json identity;
  std::vector<std::string> shards;  // written, in order
  std::vector<uint64_t> shard_bytes;
  int64_t documents = 0, tokens = 0, skipped_lines = 0;
  ResumePoint next;
};

// Writes <dir>/prepare-progress.json atomically.
void write_prepare_progress(const std::string& dir, const PrepareState& state);

// The progress file of `dir`; nullopt when there is none. DataError when it is damaged.
std::optional<PrepareState> read_prepare_progress(const std::string& dir);

}  // namespace bitnet::data
