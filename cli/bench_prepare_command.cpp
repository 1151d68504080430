// `bitnet bench prepare INPUTS... [--threads 1,2]`: `data prepare` throughput (input MB/s, tokens/s)
// at each thread count on the same input in one run, the speed-up over the first count, and
// whether every count wrote the same shards. Figures only: nothing here passes or fails on time.
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cli/commands.h"
#include "cli/mode_option.h"
#include "data/prepare/prepare.h"
#include "formats/scratch_dir.h"
#include "trainer/console.h"

namespace bitnet::cli {
namespace {

namespace fs = std::filesystem;

struct BenchPrepareOptions {
  data::PrepareOptions prepare;
  std::vector<int> threads{1, 2};
  bool keep = false;
};

std::string file_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// CPU seconds (user + system) this process has used: with the wall time it shows how much of the
// machine a run got (a busy machine gives a second thread no core to run on).
double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * double(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

bool same_shards(const fs::path& a, const fs::path& b, const std::vector<std::string>& names_a,
                 const std::vector<std::string>& names_b) {
  if (names_a != names_b) return false;
  for (const std::string& n : names_a) {
    if (file_bytes(a / n) != file_bytes(b / n)) return false;
  }
  return true;
}

int run_bench_prepare(BenchPrepareOptions o) {
  o.prepare.restart = true;
  formats::ScratchDir scratch("bench-prepare");
  const fs::path work = scratch.path();
  std::printf("bench prepare: %s input(s), tokenizer %s, format %s, %u hardware thread(s)\n",
              format_count(static_cast<int64_t>(o.prepare.inputs.size())).c_str(), o.prepare.tokenizer.c_str(),
              enum_name(o.prepare.format), std::thread::hardware_concurrency());
  double first_rate = 0;
  int first_threads = 0;
  std::vector<std::string> first_shards;
  fs::path first_dir;
  for (size_t i = 0; i < o.threads.size(); ++i) {
    data::PrepareOptions p = o.prepare;
    p.threads = o.threads[i];
    p.out = (work / ("threads-" + std::to_string(p.threads))).string();
    const double cpu_before = cpu_seconds();
    const data::PrepareResult r = data::prepare_shards(p);
    const double cpu = cpu_seconds() - cpu_before;
    const data::PrepareStatus& s = r.status;
    const double rate = s.seconds > 0 ? double(s.bytes_done - s.bytes_at_start) / s.seconds : 0.0;
    if (i == 0) {
      first_rate = rate;
      first_threads = r.threads;
      first_shards = r.shards;
      first_dir = p.out;
    }
    std::printf(
        "threads %3d: %8.2f MB/s  %9s tokens/s  %7.2f s (cpu %.2f s)  %s documents  %s tokens  x%.2f vs %d "
        "thread(s)%s\n",
        r.threads, rate / 1e6, format_si(s.seconds > 0 ? double(s.tokens) / s.seconds : 0.0).c_str(), s.seconds, cpu,
        format_count(s.documents).c_str(), format_count(s.tokens).c_str(), first_rate > 0 ? rate / first_rate : 0.0,
        first_threads,
        i == 0 ? "" : (same_shards(first_dir, p.out, first_shards, r.shards) ? "  same shards" : "  SHARDS DIFFER"));
    std::fflush(stdout);
  }
  if (o.keep) {
    scratch.keep();
    std::printf("shards kept in %s\n", work.c_str());
  }
  return 0;
}

}  // namespace

void add_bench_prepare_command(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<BenchPrepareOptions>();
  auto* cmd = bench_group(app)->add_subcommand(
      "prepare",
      "`data prepare` throughput (input MB/s, tokens/s) at each thread count on the same input, the\n"
      "speed-up over the first count, and whether every count wrote the same shards.");
  cmd->add_option("inputs", o->prepare.inputs, "text or JSONL files, plain or gzip (globs allowed)")->required();
  cmd->add_option("--tokenizer", o->prepare.tokenizer, "byte, or a tokenizer.json / model directory (bpe)");
  add_mode_option(cmd, "--format", &o->prepare.format, "input format");
  cmd->add_option("--separator", o->prepare.separator, "text: line that ends a document (\"\" = blank lines)");
  cmd->add_option("--threads", o->threads, "thread counts to measure, in order")->delimiter(',')->capture_default_str();
  cmd->add_flag("--keep", o->keep, "keep the shards written (their directory is printed)");
  cmd->callback([=] { *exit_code = run_bench_prepare(*o); });
}

}  // namespace bitnet::cli
