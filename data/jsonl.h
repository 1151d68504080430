// JSONL datasets for fine-tuning: one JSON object per line, in one of three shapes:
//   {"text": "..."}                                   every token trained, then EOS (trained)
//   {"prompt": "...", "completion": "..."}            prompt is context; completion + EOS trained
//   {"messages": [{"role": "...", "content": "..."}]} rendered by a chat template
//                                                      (chat_template.h): assistant turns trained
// Prompt and completion are tokenized separately (as ordinary text) and concatenated, so a
// completion usually starts with its own space. A line that is not one of these shapes (bad JSON,
// a missing or non-string field, no assistant turn, an unknown role type) is a bad line: the
// error names file:line and the reason; BadLines::kSkip skips it and counts it, kFail throws.
// Blank lines are ignored. Duplicate keys in an object, nesting deeper than
// formats::kMaxJsonDepth and numbers beyond double are bad JSON (formats/json_read.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/chat_template.h"
#include "data/tokenizer.h"

namespace bitnet::data {

enum class BadLines { kFail, kSkip };

struct JsonlOptions {
  ChatTemplate chat_template = ChatTemplate::kGeneric;
  BadLines bad_lines = BadLines::kFail;
  int64_t max_reported = 20;  // skipped lines whose message is kept in the report
};

struct JsonlReport {
  int64_t lines = 0;      // non-blank lines seen
  int64_t examples = 0;   // lines turned into examples
  int64_t skipped = 0;    // bad lines skipped
  std::vector<std::string> messages;  // "file:line: reason" of the first skipped lines
};

// One line → an example (throws DataError with "origin:line: reason" on a bad line).
MaskedTokens jsonl_line_to_example(const std::string& line, const Tokenizer& tokenizer,
                                   ChatTemplate chat_template, const std::string& origin,
                                   int64_t line_number);

// Reads every file of `paths_or_globs` (expanded like read_text_documents). DataError on a
// missing/unreadable path, on a bad line under kFail, and when no example results at all.
std::vector<MaskedTokens> read_jsonl_examples(const std::vector<std::string>& paths_or_globs,
                                              const Tokenizer& tokenizer,
                                              const JsonlOptions& options,
                                              JsonlReport* report = nullptr);

}  // namespace bitnet::data
