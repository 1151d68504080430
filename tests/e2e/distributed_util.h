// Helpers of the distributed end-to-end tests: a temporary directory with a small generated
// corpus and a tiny-model config, and running `bitnet` as child processes with a deadline.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/temp_dir.h"

namespace bitnet::test {

namespace fs = std::filesystem;

class RunDir {
 public:
  RunDir() : dir_("dist"), path_(dir_.path()) { write_corpus(); }
  const std::string& path() const { return path_; }

  // A tiny model on the generated corpus; `extra` is appended (YAML lines at top level).
  std::string write_config(const std::string& file_name, const std::string& extra = "") const {
    const std::string p = path_ + "/" + file_name;
    std::ofstream f(p);
    f << "name: run\n"
         "model: {hidden_size: 64, num_layers: 2, num_heads: 4, num_kv_heads: 2, intermediate_size: 128, "
         "max_seq_len: 64}\n"
         "tokenizer: {type: byte}\n"
         "data: {format: text, paths: [\""
      << path_
      << "/corpus.txt\"], separator_line: \"%\", seq_len: 32, "
         "val_fraction: 0.05}\n"
         "train: {steps: 10, micro_batch: 2, precision: fp32, threads: 1, seed: 7}\n"
         "optim: {lr: 3.0e-3, weight_decay: 0.1, grad_clip: 1.0}\n"
         "schedule: {type: cosine, warmup_steps: 2}\n"
         "checkpoint: {every: 0, keep_last: 3}\n"
         "eval: {every: 0, batches: 1}\n"
         "sample: {every: 0, prompts: []}\n"
         "log: {dir: \""
      << path_
      << "/runs\", every: 1}\n"
         "distributed: {backend: gloo, timeout_s: 20}\n"
      << extra;
    return p;
  }

  std::string run_path(const std::string& name) const { return path_ + "/runs/" + name; }

 private:
  // Deterministic pseudo-English documents (an LCG picks words), separated by "%" lines.
  void write_corpus() const {
    static const char* words[] = {"the",    "cat",     "sat",   "on",     "a",     "mat", "and",
                                  "looked", "at",      "moon",  "while",  "dogs",  "ran", "over",
                                  "hills",  "quickly", "under", "bright", "stars", "."};
    uint64_t state = 12345;
    std::ofstream f(path_ + "/corpus.txt");
    for (int doc = 0; doc < 300; ++doc) {
      const int n = 12 + doc % 17;
      for (int w = 0; w < n; ++w) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        f << words[(state >> 33) % 20] << (w + 1 < n ? " " : "\n");
      }
      f << "%\n";
    }
  }
  bitnet::testing::TempDir dir_;  // first: path_ is initialised from it
  std::string path_;
};

struct Child {
  pid_t pid = -1;
  std::string out_path, err_path;
};

// Starts BITNET_EXE with `args`, extra environment `env` (on top of ours minus any distributed
// variables), stdout/stderr to files.
inline Child start_bitnet(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
                          const std::string& log_prefix) {
  Child c;
  c.out_path = log_prefix + ".out";
  c.err_path = log_prefix + ".err";
  std::vector<std::string> argv_s = {BITNET_EXE};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<std::string> env_s;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    bool drop = false;
    for (const char* k : {"RANK=", "LOCAL_RANK=", "WORLD_SIZE=", "LOCAL_WORLD_SIZE=", "MASTER_ADDR=", "MASTER_PORT="}) {
      drop = drop || entry.rfind(k, 0) == 0;
    }
    if (!drop) env_s.push_back(entry);
  }
  for (const auto& [k, v] : env) env_s.push_back(k + "=" + v);
  std::vector<char*> argv, envp;
  for (auto& s : argv_s) argv.push_back(s.data());
  argv.push_back(nullptr);
  for (auto& s : env_s) envp.push_back(s.data());
  envp.push_back(nullptr);
  c.pid = ::fork();
  if (c.pid == 0) {
    const int out = ::open(c.out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = ::open(c.err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  return c;
}

// Exit code (128 + signal when killed), or -1 if still running at the deadline (then killed).
inline int wait_for(const Child& c, std::chrono::seconds deadline) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (true) {
    int status = 0;
    if (::waitpid(c.pid, &status, WNOHANG) == c.pid) {
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (std::chrono::steady_clock::now() > end) {
      ::kill(c.pid, SIGKILL);
      ::waitpid(c.pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

inline std::string read_file(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// step -> loss of metrics.jsonl (training records only).
inline std::map<int64_t, double> read_losses(const std::string& run_dir) {
  std::map<int64_t, double> out;
  std::istringstream lines(read_file(run_dir + "/metrics.jsonl"));
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) continue;  // a line being written while we read
    if (j.contains("loss")) out[j["step"].get<int64_t>()] = j["loss"].get<double>();
  }
  return out;
}

inline int count_loss_lines(const std::string& run_dir) {
  if (!fs::exists(run_dir + "/metrics.jsonl")) return 0;
  return static_cast<int>(read_losses(run_dir).size());
}

}  // namespace bitnet::test
