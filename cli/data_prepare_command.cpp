// `bitnet data prepare INPUTS... --out DIR`: text or JSONL files (plain or gzip) → token shards,
// tokenized on every hardware thread, resumable after an interruption (data/prepare/prepare.h).
#include <algorithm>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/mode_option.h"
#include "data/prepare/prepare.h"
#include "trainer/console.h"

namespace bitnet::cli {
namespace {

void print_progress(const data::PrepareStatus& s) {
  const double read = double(s.bytes_done - s.bytes_at_start);
  const double rate = s.seconds > 0 ? read / s.seconds : 0.0;
  const double left = double(s.bytes_total - std::min(s.bytes_done, s.bytes_total));
  const std::string eta = rate > 0 ? format_duration(left / rate) : "?";
  std::fprintf(stderr, "\rprepare: %5.1f%% of %.1f MB, %.1f MB/s, ETA %s, %s documents, %s tokens, %zu shard(s)   ",
               s.bytes_total > 0 ? 100.0 * double(s.bytes_done) / double(s.bytes_total) : 100.0,
               double(s.bytes_total) / 1e6, rate / 1e6, eta.c_str(), format_count(s.documents).c_str(),
               format_si(double(s.tokens)).c_str(), s.shards);
  std::fflush(stderr);
}

int run_prepare(const data::PrepareOptions& o) {
  data::PrepareCallbacks cb;
  bool progress_shown = false;
  cb.progress = [&](const data::PrepareStatus& s) {
    print_progress(s);
    progress_shown = true;
  };
  cb.skipped_line = [&](const std::string& m) {
    std::fprintf(stderr, "%sskipped %s\n", progress_shown ? "\n" : "", m.c_str());
    progress_shown = false;
  };
  data::PrepareResult r;
  try {
    r = data::prepare_shards(o, cb);
  } catch (const std::exception&) {
    if (progress_shown) std::fprintf(stderr, "\n");  // the error message starts on its own line
    throw;
  }
  if (progress_shown) std::fprintf(stderr, "\n");
  if (r.already_complete) {
    std::printf(
        "%s already holds this prepare, complete (dataset.json): nothing to do "
        "(--restart prepares it again)\n",
        o.out.c_str());
    return 0;
  }
  const data::PrepareStatus& s = r.status;
  if (r.stopped) {
    std::printf(
        "stopped after %zu shard(s) as asked (--stop-after-shards): run the same command again to "
        "continue\n",
        r.shards.size());
    return 1;
  }
  const double secs = s.seconds;
  const double mb = double(s.bytes_done - s.bytes_at_start) / 1e6;
  std::printf(
      "prepared %s: %s %s, %s tokens in %zu shard(s)%s%s; %s tokens/s, %.2f MB/s on %d thread(s)\n"
      "train on it with: data.format=shards data.paths=[%s] tokenizer.type=%s%s\n",
      o.out.c_str(), format_count(s.documents).c_str(), r.masked ? "examples" : "documents",
      format_count(s.tokens).c_str(), r.shards.size(),
      s.skipped_lines > 0 ? (", " + std::to_string(s.skipped_lines) + " bad line(s) skipped").c_str() : "",
      r.resumed_shards > 0 ? (", resumed after " + std::to_string(r.resumed_shards) + " shard(s)").c_str() : "",
      format_si(secs > 0 ? double(s.tokens) / secs : 0.0).c_str(), secs > 0 ? mb / secs : 0.0, r.threads, o.out.c_str(),
      enum_name(r.tokenizer_type),
      r.tokenizer_type == data::TokenizerType::kByte ? "" : (" tokenizer.path=" + o.tokenizer).c_str());
  if (!r.hint.empty()) std::printf("%s\n", r.hint.c_str());
  return 0;
}

}  // namespace

void add_data_prepare_command(CLI::App& data_command, int* exit_code) {
  auto o = std::make_shared<data::PrepareOptions>();
  auto* cmd = data_command.add_subcommand(
      "prepare",
      "Tokenize text or JSONL files (plain or gzip) once into token shards, on every core; an "
      "interrupted prepare continues where it stopped when run again.");
  cmd->add_option("inputs", o->inputs, "text or JSONL files, plain or gzip (globs allowed), read in order")->required();
  cmd->add_option("--out", o->out, "output directory for the shards")->required();
  cmd->add_option("--tokenizer", o->tokenizer, "byte, or a tokenizer.json / model directory (bpe)");
  add_mode_option(cmd, "--format", &o->format,
                  "input format; jsonl: fine-tuning examples, jsonl-text: {\"text\": ...} lines as pre-training "
                  "documents");
  cmd->add_option("--separator", o->separator, "text: line that ends a document (\"\" = blank lines)");
  add_mode_option(cmd, "--chat-template", &o->chat_template, "jsonl messages");
  add_mode_option(cmd, "--bad-lines", &o->bad_lines, "jsonl");
  cmd->add_option("--shard-tokens", o->shard_tokens, "tokens per shard file (whole documents)");
  cmd->add_option("--max-line-bytes", o->max_line_bytes,
                  "jsonl: a longer line is a bad line, never held whole (default 16 MiB)");
  cmd->add_option("--threads", o->threads, "tokenizing threads (default: every hardware thread)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--chunk-bytes", o->chunk_bytes, "input bytes per piece of work, in whole documents (default 1 MiB)")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--restart", o->restart, "discard what a previous prepare left in --out and start over");
  // Tests: stop as if killed once this run has written N shards.
  cmd->add_option("--stop-after-shards", o->stop_after_shards)->group("");
  cmd->callback([=] { *exit_code = run_prepare(*o); });
}

}  // namespace bitnet::cli
