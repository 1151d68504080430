// Checkpoint writing, verification and loading (see checkpoint.h).
#include "checkpoint/checkpoint.h"

#include <unistd.h>
#include <xxhash.h>

#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "formats/atomic_file.h"
#include "formats/json_read.h"
#include "layers/tensor_io.h"

namespace bitnet {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kManifest = "manifest.json";
constexpr const char* kFormat = "bitnet-train checkpoint";
const std::vector<std::string> kFiles = {"model.safetensors", "optim.safetensors", "state.json", "config.yaml"};

std::string hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// XXH64 of a whole file, streamed.
std::string file_xxh64(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CheckpointError("cannot read " + path.string());
  XXH64_state_t* st = XXH64_createState();
  XXH64_reset(st, 0);
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    XXH64_update(st, buf.data(), static_cast<size_t>(in.gcount()));
  }
  const uint64_t h = XXH64_digest(st);
  XXH64_freeState(st);
  return hex64(h);
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CheckpointError("cannot read " + path.string());
  return std::string(std::istreambuf_iterator<char>(in), {});
}

json state_to_json(const TrainState& s) {
  return json{{"format", kFormat},
              {"step", s.step},
              {"tokens_seen", s.tokens_seen},
              {"data_cursor", {{"epoch", s.cursor.epoch}, {"position", s.cursor.position}}},
              {"nan_skips", s.nan_skips},
              {"config_hash", s.config_hash},
              {"threads", s.threads},
              {"world_size", s.world_size},
              {"rng", s.device_rng.empty() ? json{{"torch_cpu", s.torch_rng}}
                                           : json{{"torch_cpu", s.torch_rng}, {"torch_device", s.device_rng}}}};
}

TrainState state_from_json(const json& j, const std::string& where) {
  try {
    TrainState s;
    s.step = j.at("step").get<int64_t>();
    s.tokens_seen = j.at("tokens_seen").get<int64_t>();
    s.cursor.epoch = j.at("data_cursor").at("epoch").get<int64_t>();
    s.cursor.position = j.at("data_cursor").at("position").get<int64_t>();
    s.nan_skips = j.at("nan_skips").get<int64_t>();
    s.config_hash = j.at("config_hash").get<std::string>();
    s.threads = j.at("threads").get<int64_t>();
    s.world_size = j.at("world_size").get<int64_t>();
    s.torch_rng = j.at("rng").at("torch_cpu").get<std::string>();
    if (j.at("rng").contains("torch_device")) s.device_rng = j.at("rng").at("torch_device").get<std::string>();
    return s;
  } catch (const json::exception& e) {
    throw CheckpointError(where + ": malformed state: " + e.what());
  }
}

void remove_quietly(const fs::path& p) {
  std::error_code ec;
  fs::remove_all(p, ec);
}

// The writer's pid in ".tmp-step_00000012-4242" / ".old-step_00000012-4242", or -1.
pid_t writer_pid(const std::string& name) {
  if (name.rfind(".tmp-step_", 0) != 0 && name.rfind(".old-step_", 0) != 0) return -1;
  const size_t dash = name.rfind('-');
  if (dash == std::string::npos || dash + 1 == name.size() || name.size() - dash > 11) return -1;
  long long pid = 0;
  for (size_t i = dash + 1; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return -1;
    pid = pid * 10 + (name[i] - '0');
  }
  return static_cast<pid_t>(pid);
}

bool process_alive(pid_t pid) {
  return ::kill(pid, 0) == 0 || errno == EPERM;
}

// A half-written checkpoint directory is removed when its write fails: on a full disk each retry
// would otherwise fail sooner.
class RemoveUnlessKept {
 public:
  explicit RemoveUnlessKept(fs::path path) : path_(std::move(path)) {}
  ~RemoveUnlessKept() {
    if (!kept_) remove_quietly(path_);
  }
  void keep() { kept_ = true; }

 private:
  fs::path path_;
  bool kept_ = false;
};

}  // namespace

std::vector<std::string> remove_stale_checkpoint_temporaries(const std::string& ckpt_root) {
  std::vector<std::string> removed;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(ckpt_root, ec)) {
    const std::string name = entry.path().filename().string();
    const pid_t pid = writer_pid(name);
    if (pid <= 0 || pid == ::getpid() || process_alive(pid)) continue;  // a live writer's, or not ours
    remove_quietly(entry.path());
    removed.push_back(entry.path().string());
  }
  return removed;
}

std::string checkpoint_dir_name(int64_t step) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "step_%08lld", static_cast<long long>(step));
  return buf;
}

std::string save_checkpoint(const std::string& ckpt_root,
                            const std::vector<std::pair<std::string, torch::Tensor>>& model,
                            const std::vector<std::pair<std::string, torch::Tensor>>& optim, const TrainState& state,
                            const std::string& config_yaml, int64_t keep_last,
                            const std::vector<std::pair<std::string, std::string>>& extra_files) {
  const fs::path root(ckpt_root);
  fs::create_directories(root);
  const std::string name = checkpoint_dir_name(state.step);
  remove_stale_checkpoint_temporaries(ckpt_root);
  const fs::path tmp = root / (".tmp-" + name + "-" + std::to_string(::getpid()));
  remove_quietly(tmp);
  RemoveUnlessKept tmp_guard(tmp);
  fs::create_directories(tmp);

  const std::map<std::string, std::string> meta = {{"format", kFormat}, {"step", std::to_string(state.step)}};
  save_tensors((tmp / "model.safetensors").string(), model, meta);
  save_tensors((tmp / "optim.safetensors").string(), optim, meta);
  formats::write_file_atomic((tmp / "state.json").string(), state_to_json(state).dump(2) + "\n");
  formats::write_file_atomic((tmp / "config.yaml").string(), config_yaml);
  std::vector<std::string> listed = kFiles;
  for (const auto& [file, contents] : extra_files) {
    formats::write_file_atomic((tmp / file).string(), contents);
    listed.push_back(file);
  }
  json manifest{{"format", kFormat}, {"step", state.step}, {"files", json::object()}};
  for (const auto& f : listed) {
    manifest["files"][f] = {{"bytes", fs::file_size(tmp / f)}, {"xxh64", file_xxh64(tmp / f)}};
  }
  formats::write_file_atomic((tmp / kManifest).string(), manifest.dump(2) + "\n");
  formats::fsync_directory(tmp.string());

  // Re-saving a step (after a resume) replaces the old directory only once the new one is whole.
  const fs::path final_dir = root / name;
  const fs::path old = root / (".old-" + name + "-" + std::to_string(::getpid()));
  if (fs::exists(final_dir)) fs::rename(final_dir, old);
  fs::rename(tmp, final_dir);
  tmp_guard.keep();
  const fs::path link_tmp = root / ".latest.tmp";
  remove_quietly(link_tmp);
  fs::create_directory_symlink(name, link_tmp);
  fs::rename(link_tmp, root / "latest");
  formats::fsync_directory(root.string());
  remove_quietly(old);

  std::vector<fs::path> steps;
  for (const auto& entry : fs::directory_iterator(root)) {
    const std::string n = entry.path().filename().string();
    if (entry.is_directory() && !entry.is_symlink() && n.rfind("step_", 0) == 0) steps.push_back(entry.path());
  }
  std::sort(steps.begin(), steps.end());
  for (size_t i = 0; i + static_cast<size_t>(std::max<int64_t>(keep_last, 1)) < steps.size(); ++i) {
    if (steps[i] != final_dir) remove_quietly(steps[i]);
  }
  return final_dir.string();
}

std::string verify_checkpoint(const std::string& dir) {
  const fs::path d(dir);
  if (!fs::is_directory(d)) return "not a directory";
  if (!fs::exists(d / kManifest)) return "no manifest.json (incomplete checkpoint)";
  json manifest;
  try {
    manifest = formats::parse_json_strict(read_text(d / kManifest), (d / kManifest).string());
    std::vector<std::string> listed = kFiles;  // required, then any extra file the manifest names
    for (const auto& item : manifest.at("files").items()) {
      if (std::find(kFiles.begin(), kFiles.end(), item.key()) == kFiles.end()) {
        if (item.key().find('/') != std::string::npos || item.key().rfind(".", 0) == 0) {
          return "manifest.json names an unexpected file '" + item.key() + "'";
        }
        listed.push_back(item.key());
      }
    }
    for (const auto& f : listed) {
      const json& entry = manifest.at("files").at(f);
      const fs::path p = d / f;
      if (!fs::exists(p)) return f + " is missing";
      const auto bytes = entry.at("bytes").get<uint64_t>();
      if (fs::file_size(p) != bytes) {
        return f + " has " + std::to_string(fs::file_size(p)) + " bytes, the manifest says " + std::to_string(bytes);
      }
      if (file_xxh64(p) != entry.at("xxh64").get<std::string>()) return f + " does not match its checksum (corrupted)";
    }
  } catch (const std::exception& e) {
    return std::string("unreadable manifest.json: ") + e.what();
  }
  return "";
}

CheckpointContents load_checkpoint(const std::string& dir) {
  const std::string problem = verify_checkpoint(dir);
  if (!problem.empty()) throw CheckpointError("checkpoint " + dir + " is not usable: " + problem);
  const fs::path d(dir);
  CheckpointContents c;
  c.dir = dir;
  try {
    c.state =
        state_from_json(formats::parse_json_strict(read_text(d / "state.json"), (d / "state.json").string()), dir);
    c.model = load_tensors((d / "model.safetensors").string());
    c.optim = load_tensors((d / "optim.safetensors").string());
  } catch (const CheckpointError&) {
    throw;
  } catch (const std::exception& e) {
    throw CheckpointError("checkpoint " + dir + " is not usable: " + e.what());
  }
  c.config_yaml = read_text(d / "config.yaml");
  return c;
}

std::string load_checkpoint_config(const std::string& dir) {
  const std::string problem = verify_checkpoint(dir);
  if (!problem.empty()) throw CheckpointError("checkpoint " + dir + " is not usable: " + problem);
  return read_text(fs::path(dir) / "config.yaml");
}

std::optional<std::string> find_latest_checkpoint(const std::string& ckpt_root, std::vector<std::string>* rejected) {
  const fs::path root(ckpt_root);
  if (!fs::is_directory(root)) return std::nullopt;
  std::vector<fs::path> steps;
  for (const auto& entry : fs::directory_iterator(root)) {
    const std::string n = entry.path().filename().string();
    if (entry.is_directory() && !entry.is_symlink() && n.rfind("step_", 0) == 0) steps.push_back(entry.path());
  }
  std::sort(steps.rbegin(), steps.rend());
  for (const auto& p : steps) {
    const std::string problem = verify_checkpoint(p.string());
    if (problem.empty()) return p.string();
    if (rejected) rejected->push_back(p.string() + ": " + problem);
  }
  return std::nullopt;
}

}  // namespace bitnet
