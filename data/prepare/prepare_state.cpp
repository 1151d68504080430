// A prepare's identity and its progress file (see prepare_state.h).
#include "data/prepare/prepare_state.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "data/error.h"
#include "formats/atomic_file.h"
#include "formats/error.h"
#include "formats/file_io.h"
#include "formats/json_read.h"

namespace bitnet::data {
namespace {

using nlohmann::json;

constexpr const char* kProgressFormat = "bitnet prepare progress v1";

json input_stamp(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    throw DataError("cannot read '" + path + "': " + std::strerror(errno));
  }
  const int64_t mtime_ns = int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
  return {{"path", std::filesystem::absolute(path).lexically_normal().string()},
          {"bytes", static_cast<uint64_t>(st.st_size)},
          {"mtime_ns", mtime_ns}};
}

std::string shown(const json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

void input_differences(const json& was, const json& now, std::vector<std::string>& out) {
  if (!was.is_array() || was.size() != now.size()) {
    out.push_back("inputs: were " + (was.is_array() ? std::to_string(was.size()) : "?") + " file(s), now " +
                  std::to_string(now.size()));
  }
  if (!was.is_array()) return;
  constexpr size_t kMaxListed = 5;  // a changed directory of inputs would list every file
  size_t listed = 0;
  for (size_t i = 0; i < std::min(was.size(), now.size()) && listed < kMaxListed; ++i) {
    const json& a = was[i];
    const json& b = now[i];
    if (a == b) continue;
    ++listed;
    const std::string where = "input " + std::to_string(i + 1) + " (" + shown(b["path"]) + "): ";
    if (a.value("path", json()) != b["path"]) {
      out.push_back(where + "was " + shown(a.value("path", json())));
    } else if (a.value("bytes", json()) != b["bytes"]) {
      out.push_back(where + "size was " + shown(a.value("bytes", json())) + " bytes, now " + shown(b["bytes"]));
    } else {
      out.push_back(where + "modified since (modification time changed)");
    }
  }
}

}  // namespace

json prepare_identity(const PrepareOptions& o, const Tokenizer& tokenizer, uint64_t tokenizer_fingerprint,
                      const std::vector<std::string>& files) {
  json options = {
      {"format", enum_name(o.format)},
      {"tokenizer", std::string(enum_name(tokenizer.type())) + " (vocab " + std::to_string(tokenizer.vocab_size()) +
                        ", fingerprint " + std::to_string(tokenizer_fingerprint) + ")"},
      {"shard_tokens", o.shard_tokens}};
  if (o.format == PrepareFormat::kText) options["separator"] = o.separator;
  if (o.format == PrepareFormat::kJsonl) options["chat_template"] = enum_name(o.chat_template);
  if (o.format != PrepareFormat::kText) {
    options["bad_lines"] = enum_name(o.bad_lines);
    options["max_line_bytes"] = o.max_line_bytes;
  }
  json inputs = json::array();
  for (const std::string& f : files) inputs.push_back(input_stamp(f));
  return {{"options", options}, {"inputs", inputs}};
}

std::vector<std::string> identity_differences(const json& recorded, const json& current) {
  std::vector<std::string> out;
  const json was = recorded.is_object() ? recorded.value("options", json::object()) : json::object();
  for (const auto& [key, now] : current["options"].items()) {
    const json before = was.is_object() ? was.value(key, json()) : json();
    if (before != now) {
      out.push_back(key + ": was " + (before.is_null() ? "not set" : before.dump()) + ", now " + now.dump());
    }
  }
  if (was.is_object()) {
    for (const auto& [key, before] : was.items()) {
      if (!current["options"].contains(key)) out.push_back(key + ": was " + before.dump() + ", now not set");
    }
  }
  input_differences(recorded.is_object() ? recorded.value("inputs", json()) : json(), current["inputs"], out);
  return out;
}

void write_prepare_progress(const std::string& dir, const PrepareState& s) {
  const json j = {{"format", kProgressFormat},
                  {"identity", s.identity},
                  {"shards", s.shards},
                  {"shard_bytes", s.shard_bytes},
                  {"documents", s.documents},
                  {"tokens", s.tokens},
                  {"skipped_lines", s.skipped_lines},
                  {"next", {{"file", s.next.file}, {"offset", s.next.offset}, {"line", s.next.line}}}};
  formats::write_file_atomic((std::filesystem::path(dir) / kPrepareProgressFile).string(), j.dump(1) + "\n");
}

std::optional<PrepareState> read_prepare_progress(const std::string& dir) {
  const std::string path = (std::filesystem::path(dir) / kPrepareProgressFile).string();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::nullopt;
  const std::string damaged = path + " is damaged (remove it, or run again with --restart)";
  try {
    const std::vector<uint8_t> bytes = formats::read_file_bytes(path);
    const json j =
        formats::parse_json_strict(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), path);
    if (j.value("format", "") != kProgressFormat) throw DataError(damaged + ": not a progress file of this version");
    PrepareState s;
    s.identity = j.at("identity");
    s.shards = j.at("shards").get<std::vector<std::string>>();
    s.shard_bytes = j.at("shard_bytes").get<std::vector<uint64_t>>();
    s.documents = j.at("documents").get<int64_t>();
    s.tokens = j.at("tokens").get<int64_t>();
    s.skipped_lines = j.at("skipped_lines").get<int64_t>();
    const json& next = j.at("next");
    s.next = {next.at("file").get<int64_t>(), next.at("offset").get<uint64_t>(), next.at("line").get<int64_t>()};
    if (s.shards.size() != s.shard_bytes.size() || s.documents < 0 || s.tokens < 0 || s.skipped_lines < 0 ||
        s.next.file < 0 || s.next.line < 0) {
      throw DataError(damaged + ": inconsistent counts");
    }
    return s;
  } catch (const formats::FormatError& e) {
    throw DataError(damaged + ": " + e.what());
  } catch (const json::exception& e) {
    throw DataError(damaged + ": " + e.what());
  }
}

}  // namespace bitnet::data
