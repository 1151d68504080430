// JSONL examples: parsing each line and turning it into masked tokens (see jsonl.h).
#include "data/jsonl.h"

#include <algorithm>
#include <cstring>

#include <nlohmann/json.hpp>

#include "data/error.h"
#include "data/input_file.h"
#include "data/line_reader.h"
#include "data/text_documents.h"
#include "formats/json_read.h"

namespace bitnet::data {

namespace {

using nlohmann::json;

const std::string& string_field(const json& obj, const char* key) {
  const auto it = obj.find(key);
  if (it == obj.end()) throw DataError(std::string("missing \"") + key + "\"");
  if (!it->is_string()) {
    throw DataError(std::string("\"") + key + "\" must be a string, found " + it->type_name());
  }
  return it->get_ref<const std::string&>();
}

MaskedTokens example_from_json(const json& obj, const Tokenizer& tokenizer, ChatTemplate chat_template) {
  if (!obj.is_object()) {
    throw DataError(std::string("expected a JSON object, found ") + obj.type_name());
  }
  const int shapes = static_cast<int>(obj.contains("text")) +
                     static_cast<int>(obj.contains("prompt") || obj.contains("completion")) +
                     static_cast<int>(obj.contains("messages"));
  if (shapes != 1) {
    throw DataError(shapes == 0 ? "expected \"text\", \"prompt\"+\"completion\" or \"messages\""
                                : "more than one of \"text\", \"prompt\"/\"completion\", "
                                  "\"messages\" (use one per line)");
  }
  MaskedTokens out;
  if (obj.contains("text")) {
    out.append(encode_plain(tokenizer, string_field(obj, "text")), true);
    out.append(tokenizer.eos_id(), true);
    return out;
  }
  if (obj.contains("prompt") || obj.contains("completion")) {
    out.append(encode_plain(tokenizer, string_field(obj, "prompt")), false);
    out.append(encode_plain(tokenizer, string_field(obj, "completion")), true);
    out.append(tokenizer.eos_id(), true);
    return out;
  }
  const json& messages = obj["messages"];
  if (!messages.is_array() || messages.empty()) {
    throw DataError("\"messages\" must be a non-empty array");
  }
  std::vector<ChatMessage> chat;
  bool has_assistant = false;
  for (size_t i = 0; i < messages.size(); ++i) {
    const json& m = messages[i];
    try {
      if (!m.is_object()) throw DataError(std::string("not an object but ") + m.type_name());
      ChatMessage msg{string_field(m, "role"), string_field(m, "content")};
      has_assistant = has_assistant || msg.role == "assistant";
      chat.push_back(std::move(msg));
    } catch (const DataError& e) {
      throw DataError("message " + std::to_string(i) + ": " + e.what());
    }
  }
  if (!has_assistant) throw DataError("no \"assistant\" message, so nothing to train on");
  return render_chat(chat, chat_template, tokenizer, false);
}

// A {"text": ...} line of a Hugging Face style dump: the text is a pre-training document.
MaskedTokens document_from_json(const json& obj, const Tokenizer& tokenizer) {
  if (!obj.is_object()) {
    throw DataError(std::string("expected a JSON object, found ") + obj.type_name());
  }
  MaskedTokens out;
  out.append(tokenizer.encode(string_field(obj, "text")), true);  // as text files' documents
  return out;
}

json parse_line(const std::string& line, const std::string& where) {
  try {
    return formats::parse_json_strict(line, where);
  } catch (const formats::FormatError& e) {
    throw DataError(e.what());
  }
}

}  // namespace

MaskedTokens jsonl_line_to_example(const std::string& line, const Tokenizer& tokenizer, ChatTemplate chat_template,
                                   const std::string& origin, int64_t line_number) {
  const std::string where = origin + ":" + std::to_string(line_number);
  const json obj = parse_line(line, where);
  try {
    return example_from_json(obj, tokenizer, chat_template);
  } catch (const DataError& e) {
    throw DataError(where + ": " + e.what());
  }
}

namespace {

// One non-blank line → its item; DataError "origin:line: reason" on a bad line.
MaskedTokens line_item(const std::string& text, const JsonlLine& line, const std::string& origin,
                       const Tokenizer& tokenizer, const JsonlOptions& options) {
  if (options.rows == JsonlRows::kExamples) {
    return jsonl_line_to_example(text, tokenizer, options.chat_template, origin, line.number);
  }
  const std::string where = origin + ":" + std::to_string(line.number);
  const json obj = parse_line(text, where);
  try {
    return document_from_json(obj, tokenizer);
  } catch (const DataError& e) {
    throw DataError(where + ": " + e.what());
  }
}

}  // namespace

bool take_jsonl_line(const JsonlLine& line, const std::string& origin, const Tokenizer& tokenizer,
                     const JsonlOptions& options, JsonlReport& report, MaskedTokens* out) {
  const bool too_long = line.length > static_cast<uint64_t>(options.max_line_bytes);
  std::string_view text = line.text;
  if (!too_long && !text.empty() && text.back() == '\r') text.remove_suffix(1);
  if (!too_long && text.find_first_not_of(" \t") == std::string_view::npos) return false;
  ++report.lines;
  try {
    if (too_long) {
      throw DataError(origin + ":" + std::to_string(line.number) + ": the line is " + std::to_string(line.length) +
                      " bytes, longer than the limit of " + std::to_string(options.max_line_bytes) +
                      " bytes (data.max_line_bytes; --max-line-bytes in data prepare)");
    }
    *out = line_item(std::string(text), line, origin, tokenizer, options);
  } catch (const DataError& e) {
    if (options.bad_lines == BadLines::kFail) throw;
    ++report.skipped;
    if (static_cast<int64_t>(report.messages.size()) < options.max_reported) {
      report.messages.emplace_back(e.what());
    }
    return false;
  }
  ++report.examples;
  return true;
}

std::vector<MaskedTokens> read_jsonl_examples(const std::vector<std::string>& paths_or_globs,
                                              const Tokenizer& tokenizer, const JsonlOptions& options,
                                              JsonlReport* report) {
  if (paths_or_globs.empty()) throw DataError("no JSONL files given (the list of paths is empty)");
  if (options.max_line_bytes <= 0) {
    throw DataError("the longest JSONL line allowed must be positive, not " + std::to_string(options.max_line_bytes) +
                    " bytes");
  }
  JsonlReport local;
  std::vector<MaskedTokens> examples;
  for (const std::string& path : expand_paths(paths_or_globs)) {
    InputFile in(path);
    BoundedLineReader reader(in, static_cast<size_t>(options.max_line_bytes));
    JsonlLine line;
    while (reader.next(line.text, line.length)) {
      ++line.number;
      MaskedTokens item;
      if (take_jsonl_line(line, path, tokenizer, options, local, &item)) examples.push_back(std::move(item));
    }
  }
  if (report != nullptr) *report = local;
  if (examples.empty()) {
    std::string names;
    for (const std::string& p : paths_or_globs) names += (names.empty() ? "'" : ", '") + p + "'";
    throw DataError("no examples in " + names + " (" + std::to_string(local.lines) + " lines, " +
                    std::to_string(local.skipped) + " skipped as bad)");
  }
  return examples;
}

}  // namespace bitnet::data
