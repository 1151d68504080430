// Starting a prepare in its output directory (see output_dir.h).
#include "data/prepare/output_dir.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "data/error.h"
#include "formats/error.h"
#include "formats/file_io.h"
#include "formats/json_read.h"

namespace bitnet::data {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Files a prepare writes: shards, the progress file, dataset.json.
bool is_prepare_file(const std::string& name) {
  return (starts_with(name, "shard-") && ends_with(name, ".bts")) || name == kPrepareProgressFile ||
         name == kPrepareIndexFile;
}

// A temporary of formats::AtomicFileWriter ("<name>.tmp-<pid>") left by a killed write.
bool is_prepare_temporary(const std::string& name) {
  const size_t at = name.find(".tmp-");
  return at != std::string::npos && is_prepare_file(name.substr(0, at));
}

std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> names;
  for (const fs::directory_entry& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

void remove_file(const std::string& dir, const std::string& name) {
  std::error_code ec;
  fs::remove(fs::path(dir) / name, ec);
  if (ec) throw DataError("cannot remove '" + (fs::path(dir) / name).string() + "': " + ec.message());
}

std::string bullet_list(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) out += "\n  " + l;
  return out;
}

json read_index(const std::string& path) {
  try {
    const std::vector<uint8_t> bytes = formats::read_file_bytes(path);
    return formats::parse_json_strict(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
                                      path);
  } catch (const formats::FormatError& e) {
    throw DataError(path + " is damaged (" + e.what() + "): run again with --restart to prepare afresh");
  }
}

// The recorded shards must be there with the sizes recorded: a deleted or replaced shard would
// leave a hole in the corpus.
void check_recorded_shards(const std::string& dir, const PrepareState& s) {
  for (size_t i = 0; i < s.shards.size(); ++i) {
    const fs::path path = fs::path(dir) / s.shards[i];
    if (s.shards[i] != shard_file_name(i)) {
      throw DataError(std::string(kPrepareProgressFile) + " in " + dir + " is damaged: shard " + std::to_string(i) +
                      " is recorded as '" + s.shards[i] + "' (run again with --restart)");
    }
    std::error_code ec;
    const uintmax_t bytes = fs::file_size(path, ec);
    if (ec || bytes != s.shard_bytes[i]) {
      throw DataError(
          "cannot resume in " + dir + ": " + path.string() +
          (ec ? " is missing"
              : " has " + std::to_string(bytes) + " bytes, " + std::to_string(s.shard_bytes[i]) + " were written") +
          " (run again with --restart to prepare afresh)");
    }
  }
}

}  // namespace

std::string shard_file_name(size_t index) {
  char name[32];
  std::snprintf(name, sizeof name, "shard-%05zu.bts", index);
  return name;
}

OutputStart start_output(const std::string& dir, const json& identity, bool restart) {
  fs::create_directories(dir);
  if (restart) {
    for (const std::string& name : names_in(dir)) {
      if (is_prepare_file(name) || is_prepare_temporary(name)) remove_file(dir, name);
    }
  }
  for (const std::string& name : names_in(dir)) {
    if (is_prepare_temporary(name)) remove_file(dir, name);
  }
  OutputStart start;
  const std::string index_path = (fs::path(dir) / kPrepareIndexFile).string();
  if (fs::exists(index_path)) {
    const json index = read_index(index_path);
    const std::vector<std::string> diff = identity_differences(index.value("prepare", json()), identity);
    if (!diff.empty()) {
      throw DataError(dir + " holds a complete prepare of other inputs or options:" + bullet_list(diff) +
                      "\nchoose another --out, or run again with --restart to replace it");
    }
    start.complete = true;
    return start;
  }
  if (std::optional<PrepareState> progress = read_prepare_progress(dir)) {
    const std::vector<std::string> diff = identity_differences(progress->identity, identity);
    if (!diff.empty()) {
      throw DataError(dir + " holds an unfinished prepare of other inputs or options (" +
                      std::to_string(progress->shards.size()) + " shard(s) written):" + bullet_list(diff) +
                      "\nrun it again as it was to finish it, choose another --out, or run again with "
                      "--restart to discard it and start over");
    }
    check_recorded_shards(dir, *progress);
    start.state = std::move(*progress);
  } else {
    std::vector<std::string> shards;
    for (const std::string& name : names_in(dir)) {
      if (ends_with(name, ".bts")) shards.push_back(name);
    }
    if (!shards.empty()) {
      throw DataError(dir + " already holds " + std::to_string(shards.size()) + " token shard(s) (" + shards.front() +
                      (shards.size() > 1 ? ", ..." : "") +
                      ") that no prepare in progress recorded; they would be read with the new ones: "
                      "choose another --out, or run again with --restart to remove shard-*.bts");
    }
    start.state.identity = identity;
  }
  // A shard written after the last progress record is written again.
  for (const std::string& name : names_in(dir)) {
    if (starts_with(name, "shard-") && ends_with(name, ".bts") &&
        std::find(start.state.shards.begin(), start.state.shards.end(), name) == start.state.shards.end()) {
      remove_file(dir, name);
    }
  }
  return start;
}

}  // namespace bitnet::data
