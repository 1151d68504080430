// JSONL datasets for fine-tuning: one JSON object per line, in one of three shapes:
//   {"text": "..."}                                   every token trained, then EOS (trained)
//   {"prompt": "...", "completion": "..."}            prompt is context; completion + EOS trained
//   {"messages": [{"role": "...", "content": "..."}]} rendered by a chat template
//                                                      (chat_template.h): assistant turns trained
// Prompt and completion are tokenized separately (as ordinary text) and concatenated, so a
// completion usually starts with its own space. A line that is not one of these shapes (bad JSON,
// a missing or non-string field, no assistant turn, an unknown role type) is a bad line: the
// error names file:line and the reason; BadLines::kSkip skips it and counts it, kFail throws.
// Blank lines are ignored. A line longer than JsonlOptions::max_line_bytes is a bad line too; it
// is read past without ever being held in memory whole. Duplicate keys in an object, nesting
// deeper than formats::kMaxJsonDepth and numbers beyond double are bad JSON (formats/json_read.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/chat_template.h"
#include "data/tokenizer.h"

namespace bitnet::data {

// What a bad line does (data.bad_lines, --bad-lines): stop the run, or be skipped and counted.
enum class BadLines { kFail, kSkip };

// What a line becomes. kExamples: the three shapes above. kTextDocuments: every line is an object
// with a string "text" field (other fields ignored: the layout of Hugging Face datasets' JSONL
// files), which is a pre-training document: its tokens, all trained, no EOS (packing adds it).
enum class JsonlRows { kExamples, kTextDocuments };

// The default longest line (16 MiB, excluding its '\n'): far above any real example, small
// enough that one broken file (an unterminated string running to the end) cannot take the
// machine's memory.
inline constexpr int64_t kDefaultMaxLineBytes = int64_t{16} << 20;

struct JsonlOptions {
  ChatTemplate chat_template = ChatTemplate::kGeneric;
  BadLines bad_lines = BadLines::kFail;
  int64_t max_reported = 20;                      // skipped lines whose message is kept in the report
  int64_t max_line_bytes = kDefaultMaxLineBytes;  // longer lines are bad lines; must be > 0
  JsonlRows rows = JsonlRows::kExamples;
};

struct JsonlReport {
  int64_t lines = 0;                  // non-blank lines seen
  int64_t examples = 0;               // lines turned into examples
  int64_t skipped = 0;                // bad lines skipped
  std::vector<std::string> messages;  // "file:line: reason" of the first skipped lines
};

// One line → an example (throws DataError with "origin:line: reason" on a bad line).
MaskedTokens jsonl_line_to_example(const std::string& line, const Tokenizer& tokenizer, ChatTemplate chat_template,
                                   const std::string& origin, int64_t line_number);

// A line of a JSONL file as data/line_reader.h reads it.
struct JsonlLine {
  std::string text;     // its first max_line_bytes bytes, without the '\n'
  uint64_t length = 0;  // its full length
  int64_t number = 0;   // 1-based line number
};

// The chunk-level entry point, for readers that cut files into pieces: one line → its example
// (or document, per options.rows) in *out, true when there is one. A blank line is ignored and
// not counted. A bad line (longer than options.max_line_bytes, bad JSON, not a known shape,
// message "origin:line: reason") is thrown under BadLines::kFail; under kSkip it is counted in
// `report`, its message kept while fewer than options.max_reported are kept.
bool take_jsonl_line(const JsonlLine& line, const std::string& origin, const Tokenizer& tokenizer,
                     const JsonlOptions& options, JsonlReport& report, MaskedTokens* out);

// Reads every file of `paths_or_globs` (expanded like read_text_documents; gzip files are
// decompressed, data/input_file.h). DataError on a
// missing/unreadable path, on a bad line under kFail, when no example results at all, and when
// options.max_line_bytes is not positive.
std::vector<MaskedTokens> read_jsonl_examples(const std::vector<std::string>& paths_or_globs,
                                              const Tokenizer& tokenizer, const JsonlOptions& options,
                                              JsonlReport* report = nullptr);

}  // namespace bitnet::data

namespace bitnet {
template <>
struct EnumNames<data::BadLines> {
  static constexpr EnumName<data::BadLines> table[] = {{data::BadLines::kFail, "fail"},
                                                       {data::BadLines::kSkip, "skip"}};
};
}  // namespace bitnet
