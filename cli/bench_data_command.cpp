// `bitnet bench data [--sizes-gb 1,8] [--dir DIR]`: the pre-training data path alone on synthetic
// token shards. For each size it writes random shards (data/synthetic_shards.h) under a fresh
// directory, drops them from the page cache (posix_fadvise DONTNEED: reads start cold), then in a
// child process per measurement (so one's peak memory does not hide another's) builds the
// streaming train stream of `data.format: shards` (data/shard_stream.h), draws micro-batches of
// B x seq_len and a few eval batches, and prints tokens/s and memory: peak RSS (VmHWM, reset at
// the child's start) and how far anonymous and file-backed RSS grew over the child's baseline
// (the binary and its libraries). Sizes up to
// --in-memory-max-gb are also measured on the in-memory path (the whole corpus loaded, as before
// streaming) for comparison. The shards are deleted after each size, and on error or Ctrl-C.
// Figures only: nothing here passes or fails on time.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cli/commands.h"
#include "data/batches.h"
#include "data/byte_tokenizer.h"
#include "data/error.h"
#include "data/packing.h"
#include "data/shard_stream.h"
#include "data/split.h"
#include "data/synthetic_shards.h"
#include "data/token_dataset.h"
#include "formats/scratch_dir.h"
#include "trainer/stop_signal.h"

namespace bitnet::cli {
namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

struct BenchDataOptions {
  std::string dir = "/tmp";
  std::vector<double> sizes_gb = {1, 8};
  double in_memory_max_gb = 1;
  int64_t seq_len = 2048, micro_batch = 8, batches = 200, eval_batches = 4;
  int64_t max_document_tokens = 4000;
  double val_fraction = 0.01;
};

// Current figures of /proc/self/status, in MB.
struct Rss {
  double peak = 0, anon = 0, file = 0;
};

Rss read_rss() {
  std::ifstream in("/proc/self/status");
  Rss r;
  std::string key;
  double kb = 0;
  while (in >> key) {
    if (key == "VmHWM:" && in >> kb)
      r.peak = kb / 1024;
    else if (key == "RssAnon:" && in >> kb)
      r.anon = kb / 1024;
    else if (key == "RssFile:" && in >> kb)
      r.file = kb / 1024;
  }
  return r;
}

// Largest anonymous and file-backed RSS seen over samples; VmHWM at the end.
struct RssTracker {
  Rss max;
  void sample() {
    const Rss now = read_rss();
    max.anon = std::max(max.anon, now.anon);
    max.file = std::max(max.file, now.file);
    max.peak = now.peak;
  }
};

void drop_from_page_cache(const std::vector<std::string>& files) {
  for (const std::string& f : files) {
    const int fd = ::open(f.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    ::close(fd);
  }
}

// The in-memory path of trainer/run_data.cpp (still used for every format but pre-training
// shards): every document loaded, the split's documents copied into packed streams with EOS.
std::pair<std::unique_ptr<data::TrainStream>, std::unique_ptr<data::EvalStream>> in_memory_streams(
    const std::vector<std::string>& files, const data::Tokenizer& tok, const BenchDataOptions& o) {
  data::DatasetOptions d;
  d.format = data::DataFormat::kShards;
  d.paths = files;
  data::TokenDataset ds = data::load_token_dataset(d, tok);
  const data::DocumentSplit split = data::split_documents(static_cast<int64_t>(ds.items.size()), o.val_fraction, 1);
  auto pack = [&](const std::vector<int64_t>& ids) {
    std::vector<std::vector<int32_t>> docs;
    docs.reserve(ids.size());
    for (int64_t i : ids) docs.push_back(ds.items[static_cast<size_t>(i)].tokens);
    return data::PackedTokens(docs, tok.eos_id());
  };
  data::PackedTokens train = pack(split.train), val = pack(split.val);
  ds.items.clear();
  return {std::make_unique<data::TrainBatches>(std::move(train), o.seq_len, 1),
          std::make_unique<data::EvalBatches>(std::move(val), o.seq_len)};
}

std::pair<std::unique_ptr<data::TrainStream>, std::unique_ptr<data::EvalStream>> streaming_streams(
    const std::vector<std::string>& files, const data::Tokenizer& tok, const BenchDataOptions& o) {
  auto corpus = std::make_shared<const data::ShardCorpus>(files, tok);
  data::DocumentSplit split = data::split_documents(corpus->num_documents(), o.val_fraction, 1);
  return {
      std::make_unique<data::TrainBatches>(
          std::make_shared<const data::StreamedPackedTokens>(corpus, std::move(split.train), tok.eos_id()), o.seq_len,
          1),
      std::make_unique<data::EvalBatches>(
          std::make_shared<const data::StreamedPackedTokens>(corpus, std::move(split.val), tok.eos_id()), o.seq_len)};
}

// Runs in the child: builds the streams, draws the batches, prints one row.
void measure(const std::string& path_name, double size_gb, const std::vector<std::string>& files,
             const BenchDataOptions& o) {
  std::ofstream("/proc/self/clear_refs") << "5";  // VmHWM starts again from the current RSS
  data::ByteTokenizer tok;
  RssTracker rss;
  rss.sample();
  const Rss before = rss.max;
  auto t0 = Clock::now();
  auto streams = path_name == "streaming" ? streaming_streams(files, tok, o) : in_memory_streams(files, tok, o);
  const double build_s = since(t0);
  rss.sample();
  int64_t sink = 0;
  t0 = Clock::now();
  for (int64_t i = 0; i < o.batches; ++i) {
    if (stop_signal_received() != 0) ::_exit(130);
    sink += streams.first->next(o.micro_batch).inputs[0];
    if (i % 16 == 0) rss.sample();
  }
  const double train_s = since(t0);
  t0 = Clock::now();
  const std::vector<data::Batch> eval = streams.second->first(o.eval_batches, o.micro_batch);
  const double eval_s = since(t0);
  int64_t eval_tokens = 0;
  for (const data::Batch& b : eval) eval_tokens += b.batch_size * b.seq_len;
  rss.sample();
  const double train_tokens = double(o.batches * o.micro_batch * o.seq_len);
  std::printf("%-10s %8g %9.2f %14.0f %14.0f %10.1f %10.1f %10.1f %10.1f%s\n", path_name.c_str(), size_gb, build_s,
              train_tokens / train_s, double(eval_tokens) / eval_s, rss.max.peak, rss.max.anon - before.anon,
              rss.max.file - before.file, before.anon + before.file, sink == -1 ? " " : "");
  std::fflush(stdout);
}

// Measures in a child process; false when it failed (its error is printed) or was stopped.
bool measure_in_child(const std::string& path_name, double size_gb, const std::vector<std::string>& files,
                      const BenchDataOptions& o) {
  drop_from_page_cache(files);
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = ::fork();
  if (pid < 0) throw data::DataError(std::string("fork failed: ") + std::strerror(errno));
  if (pid == 0) {
    try {
      measure(path_name, size_gb, files, o);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s %.3f GB: error: %s\n", path_name.c_str(), size_gb, e.what());
      std::fflush(stderr);
      ::_exit(1);
    }
    ::_exit(0);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int bench_data(const BenchDataOptions& o) {
  install_stop_handlers();
  auto stopped = [] { return stop_signal_received() != 0; };
  formats::ScratchDir scratch("bench-data", o.dir);
  std::printf(
      "data path: seq_len %lld, micro_batch %lld, %lld train batches + %lld eval batches, val_fraction %g;\n"
      "shards of random byte tokens, documents of 1..%lld tokens, under %s (deleted afterwards);\n"
      "page cache dropped before each measurement (reads start cold); one child process each\n",
      (long long)o.seq_len, (long long)o.micro_batch, (long long)o.batches, (long long)o.eval_batches, o.val_fraction,
      (long long)o.max_document_tokens, scratch.path().c_str());
  std::printf("%-10s %8s %9s %14s %14s %10s %10s %10s %10s\n", "path", "GB", "build s", "train tok/s", "eval tok/s",
              "peak MB", "+anon MB", "+file MB", "start MB");
  bool ok = true;
  for (size_t i = 0; i < o.sizes_gb.size(); ++i) {
    const double gb = o.sizes_gb[i];
    const std::string dir = scratch.path() + "/size-" + std::to_string(i);
    std::filesystem::create_directories(dir);
    data::SyntheticShardOptions so;
    so.total_tokens = static_cast<int64_t>(gb * 1e9 / 4);
    so.max_document_tokens = o.max_document_tokens;
    so.seed = 1 + i;
    const auto t0 = Clock::now();
    const data::SyntheticShards shards = data::write_synthetic_shards(dir, so, data::ByteTokenizer(), stopped);
    std::fprintf(stderr, "wrote %.3f GB: %lld documents, %lld tokens in %zu shard(s), %.1f s\n", gb,
                 (long long)shards.documents, (long long)shards.tokens, shards.files.size(), since(t0));
    ok = measure_in_child("streaming", gb, shards.files, o) && ok;
    if (!stopped() && gb <= o.in_memory_max_gb) ok = measure_in_child("in-memory", gb, shards.files, o) && ok;
    std::filesystem::remove_all(dir);
    if (stopped()) throw data::DataError("stopped by a signal; the shards were deleted");
  }
  std::printf(
      "peak = VmHWM of the child (the process's own baseline included); +anon / +file = largest\n"
      "RssAnon / RssFile seen minus their values before building the streams; start = RSS then\n");
  return ok ? 0 : 1;
}

}  // namespace

void add_bench_data_command(CLI::App& app, int* exit_code) {
  auto* cmd = bench_group(app)->add_subcommand(
      "data",
      "The pre-training data path alone on synthetic token shards: tokens/s and peak memory of the\n"
      "streaming shard reader per corpus size, and of the in-memory path for the smaller sizes.");
  auto o = std::make_shared<BenchDataOptions>();
  cmd->add_option("--sizes-gb", o->sizes_gb, "corpus sizes in GB of tokens (4 bytes each)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--dir", o->dir, "where the shards are written (a fresh directory inside, deleted afterwards)")
      ->capture_default_str();
  cmd->add_option("--in-memory-max-gb", o->in_memory_max_gb, "also measure the in-memory path up to this size")
      ->capture_default_str();
  cmd->add_option("--seq-len", o->seq_len, "tokens per window")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--micro-batch", o->micro_batch, "windows per batch")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--batches", o->batches, "train micro-batches drawn")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--eval-batches", o->eval_batches, "eval batches drawn")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-document-tokens", o->max_document_tokens, "documents are 1..N tokens long")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->callback([=] { *exit_code = bench_data(*o); });
}

}  // namespace bitnet::cli
