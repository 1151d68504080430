// End-to-end test helpers (see cli_runner.h).
#include "tests/e2e/cli_runner.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace bitnet::e2e {
namespace fs = std::filesystem;

namespace {

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

pid_t spawn(const std::string& program, const std::vector<std::string>& args, int out_fd) {
  std::vector<char*> argv;
  std::string binary = program;
  argv.push_back(binary.data());
  std::vector<std::string> copy = args;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::dup2(out_fd, 1);
    ::dup2(out_fd, 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

}  // namespace

RunResult run_bitnet(const std::vector<std::string>& args) {
  return run_program(BITNET_BINARY, args);
}

RunResult run_program(const std::string& program, const std::vector<std::string>& args) {
  char path[] = "/tmp/bitnet_e2e_out_XXXXXX";
  const int fd = ::mkstemp(path);
  if (fd < 0) throw std::runtime_error("mkstemp failed");
  const pid_t pid = spawn(program, args, fd);
  ::close(fd);
  RunResult r;
  r.exit_code = wait_bitnet(pid);
  r.output = read_file(path);
  ::unlink(path);
  return r;
}

pid_t start_bitnet(const std::vector<std::string>& args, const std::string& log_path) {
  const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) throw std::runtime_error("cannot open " + log_path);
  const pid_t pid = spawn(BITNET_BINARY, args, fd);
  ::close(fd);
  return pid;
}

int wait_bitnet(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, 0) < 0) return -1;
  return decode_status(status);
}

std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& more) {
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

std::string weights_checksum(const fs::path& run_dir) {
  auto manifest = nlohmann::json::parse(read_file(run_dir / "ckpt" / "latest" / "manifest.json"));
  return manifest["files"]["model.safetensors"]["xxh64"].get<std::string>();
}

void expect_same_training(const fs::path& run_a, const fs::path& run_b, size_t steps) {
  const std::vector<double> a = train_losses(run_a), b = train_losses(run_b);
  ASSERT_EQ(a.size(), steps);
  ASSERT_EQ(b.size(), steps);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i], b[i]) << "step " << i + 1;
  EXPECT_EQ(weights_checksum(run_a), weights_checksum(run_b));
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::vector<double> train_losses(const fs::path& run_dir) {
  std::vector<double> losses;
  std::ifstream in(run_dir / "metrics.jsonl");
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    if (j.contains("loss")) losses.push_back(j["loss"].get<double>());
  }
  return losses;
}

int64_t last_logged_step(const fs::path& run_dir) {
  int64_t step = 0;
  std::ifstream in(run_dir / "metrics.jsonl");
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.contains("loss")) step = j["step"].get<int64_t>();
  }
  return step;
}

std::vector<std::string> tiny_run_args(const fs::path& log_dir, const std::string& name) {
  return {"train", std::string(BITNET_SOURCE_DIR) + "/tests/e2e/tiny.yaml", "log.dir=" + log_dir.string(),
          "name=" + name};
}

}  // namespace bitnet::e2e
