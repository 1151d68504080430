// JSONL examples: parsing each line and turning it into masked tokens (see jsonl.h).
#include "data/jsonl.h"

#include <algorithm>
#include <cstring>
#include <fstream>

#include <nlohmann/json.hpp>

#include "data/error.h"
#include "data/text_documents.h"
#include "formats/json_read.h"

namespace bitnet::data {

namespace {

using nlohmann::json;

// Reads a stream one line at a time, holding at most `max_bytes` of any line: the rest of a
// longer line is read and dropped, only its length is kept. (std::getline would hold the whole
// line, however long.)
class BoundedLineReader {
 public:
  BoundedLineReader(std::istream& in, size_t max_bytes)
      : in_(in), max_bytes_(max_bytes), buffer_(size_t{1} << 16) {}

  // The next line without its '\n': `line` gets its first min(length, max_bytes) bytes and
  // `length` its full length. False at the end of the input.
  bool next(std::string& line, uint64_t& length) {
    line.clear();
    length = 0;
    bool read_any = false;
    for (;;) {
      if (pos_ == end_ && !fill()) return read_any;
      read_any = true;
      const char* begin = buffer_.data() + pos_;
      const auto* newline = static_cast<const char*>(std::memchr(begin, '\n', end_ - pos_));
      const size_t n = newline != nullptr ? static_cast<size_t>(newline - begin) : end_ - pos_;
      length += n;
      if (line.size() < max_bytes_) line.append(begin, std::min(n, max_bytes_ - line.size()));
      pos_ += n;
      if (newline != nullptr) {
        ++pos_;
        return true;
      }
    }
  }

 private:
  bool fill() {
    in_.read(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
    pos_ = 0;
    end_ = static_cast<size_t>(in_.gcount());
    return end_ > 0;
  }

  std::istream& in_;
  size_t max_bytes_;
  std::vector<char> buffer_;
  size_t pos_ = 0, end_ = 0;  // the unread bytes of buffer_
};

const std::string& string_field(const json& obj, const char* key) {
  const auto it = obj.find(key);
  if (it == obj.end()) throw DataError(std::string("missing \"") + key + "\"");
  if (!it->is_string()) {
    throw DataError(std::string("\"") + key + "\" must be a string, found " + it->type_name());
  }
  return it->get_ref<const std::string&>();
}

MaskedTokens example_from_json(const json& obj, const Tokenizer& tokenizer,
                               ChatTemplate chat_template) {
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

}  // namespace

MaskedTokens jsonl_line_to_example(const std::string& line, const Tokenizer& tokenizer,
                                   ChatTemplate chat_template, const std::string& origin,
                                   int64_t line_number) {
  const std::string where = origin + ":" + std::to_string(line_number);
  json obj;
  try {
    obj = formats::parse_json_strict(line, where);
  } catch (const formats::FormatError& e) {
    throw DataError(e.what());
  }
  try {
    return example_from_json(obj, tokenizer, chat_template);
  } catch (const DataError& e) {
    throw DataError(where + ": " + e.what());
  }
}

std::vector<MaskedTokens> read_jsonl_examples(const std::vector<std::string>& paths_or_globs,
                                              const Tokenizer& tokenizer,
                                              const JsonlOptions& options, JsonlReport* report) {
  if (paths_or_globs.empty()) throw DataError("no JSONL files given (the list of paths is empty)");
  if (options.max_line_bytes <= 0) {
    throw DataError("the longest JSONL line allowed must be positive, not " +
                    std::to_string(options.max_line_bytes) + " bytes");
  }
  JsonlReport local;
  std::vector<MaskedTokens> examples;
  for (const std::string& path : expand_paths(paths_or_globs)) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw DataError("cannot open '" + path + "'");
    BoundedLineReader reader(in, static_cast<size_t>(options.max_line_bytes));
    std::string line;
    uint64_t length = 0;
    int64_t number = 0;
    while (reader.next(line, length)) {
      ++number;
      const bool too_long = length > static_cast<uint64_t>(options.max_line_bytes);
      if (!too_long && !line.empty() && line.back() == '\r') line.pop_back();
      if (!too_long && line.find_first_not_of(" \t") == std::string::npos) continue;
      ++local.lines;
      try {
        if (too_long) {
          throw DataError(path + ":" + std::to_string(number) + ": the line is " +
                          std::to_string(length) + " bytes, longer than the limit of " +
                          std::to_string(options.max_line_bytes) +
                          " bytes (data.max_line_bytes; --max-line-bytes in data prepare)");
        }
        examples.push_back(
            jsonl_line_to_example(line, tokenizer, options.chat_template, path, number));
        ++local.examples;
      } catch (const DataError& e) {
        if (options.bad_lines == BadLines::kFail) throw;
        ++local.skipped;
        if (static_cast<int64_t>(local.messages.size()) < options.max_reported) {
          local.messages.emplace_back(e.what());
        }
      }
    }
    if (in.bad()) throw DataError("error while reading '" + path + "'");
  }
  if (report != nullptr) *report = local;
  if (examples.empty()) {
    std::string names;
    for (const std::string& p : paths_or_globs) names += (names.empty() ? "'" : ", '") + p + "'";
    throw DataError("no examples in " + names + " (" + std::to_string(local.lines) +
                    " lines, " + std::to_string(local.skipped) + " skipped as bad)");
  }
  return examples;
}

}  // namespace bitnet::data
