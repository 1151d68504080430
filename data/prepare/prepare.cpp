// The prepare pipeline: read chunks, tokenize them on a pool of threads, write shards in input
// order, record progress after each shard (see prepare.h).
#include "data/prepare/prepare.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <thread>

#include <nlohmann/json.hpp>

#include "data/byte_tokenizer.h"
#include "data/error.h"
#include "data/input_file.h"
#include "data/line_reader.h"
#include "data/prepare/chunk_tokens.h"
#include "data/prepare/input_chunks.h"
#include "data/prepare/ordered_workers.h"
#include "data/prepare/output_dir.h"
#include "data/prepare/prepare_state.h"
#include "data/prepare/shard_writer.h"
#include "data/text_documents.h"
#include "data/token_dataset.h"
#include "formats/atomic_file.h"
#include "formats/json_read.h"

namespace bitnet::data {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;
namespace fs = std::filesystem;

constexpr int64_t kMaxReportedSkips = 20;  // skipped-line messages passed on (all are counted)

int thread_count(int asked) {
  if (asked > 0) return asked;
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

void remove_progress(const std::string& dir) {
  std::error_code ec;
  fs::remove(fs::path(dir) / kPrepareProgressFile, ec);
}

// --format jsonl makes {"text"} lines fine-tuning examples; a corpus of them is usually meant as
// pre-training documents. Looks at the first non-blank line of the first input.
std::string jsonl_text_hint(const PrepareOptions& o, const std::vector<std::string>& files) {
  if (o.format != PrepareFormat::kJsonl || files.empty()) return "";
  try {
    InputFile in(files.front());
    BoundedLineReader reader(in, size_t{1} << 20);
    std::string line;
    uint64_t length = 0;
    while (reader.next(line, length)) {
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      const json obj = formats::parse_json_strict(line, files.front());
      if (!obj.is_object() || !obj.contains("text") || obj.contains("messages") || obj.contains("prompt")) return "";
      return "note: " + files.front() +
             " holds {\"text\": ...} lines, which --format jsonl makes fine-tuning "
             "examples (EOS appended, one per row, cut at seq_len + 1); for pre-training documents "
             "(packed, never cut) use --format jsonl-text";
    }
  } catch (const std::exception&) {
  }
  return "";
}

class Pipeline {
 public:
  Pipeline(const PrepareOptions& o, const PrepareCallbacks& cb, const Tokenizer& tokenizer, uint64_t fingerprint,
           std::vector<std::string> files, PrepareState state)
      : o_(o),
        cb_(cb),
        tokenizer_(tokenizer),
        files_(std::move(files)),
        state_(std::move(state)),
        reader_(files_, o, state_.next),
        writer_(o.out, static_cast<uint64_t>(tokenizer.vocab_size()), fingerprint, o.shard_tokens,
                prepares_examples(o.format), state_.shards.size()) {
    status_.bytes_total = reader_.total_bytes();
    status_.bytes_at_start = status_.bytes_done = reader_.bytes_done();
    status_.documents = state_.documents;
    status_.tokens = state_.tokens;
    status_.skipped_lines = state_.skipped_lines;
    status_.shards = state_.shards.size();
  }

  // False when stopped by stop_after_shards.
  bool run(int threads) {
    OrderedWorkers<TokenizedChunk> workers(threads);
    const size_t max_pending = 2 * static_cast<size_t>(threads);  // bounds the memory in flight
    Chunk chunk;
    while (reader_.next(chunk)) {
      workers.submit([this, c = std::move(chunk)] {
        return tokenize_chunk(c, files_[static_cast<size_t>(c.file)], o_, tokenizer_);
      });
      if (workers.pending() >= max_pending && !take(workers.next())) return false;
    }
    while (workers.pending() > 0) {
      if (!take(workers.next())) return false;
    }
    if (writer_.flush()) record_shard();
    status_.bytes_done = status_.bytes_total;
    return true;
  }

  const PrepareState& state() const { return state_; }
  PrepareStatus status() const {
    PrepareStatus s = status_;
    s.seconds = seconds();
    return s;
  }

 private:
  double seconds() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

  // Writes the items of one chunk; false when stop_after_shards is reached.
  bool take(TokenizedChunk c) {
    for (size_t i = 0; i < c.items.size(); ++i) {
      ++status_.documents;
      status_.tokens += static_cast<int64_t>(c.items[i].tokens.size());
      if (!writer_.add(c.items[i])) continue;
      // The shard holds items up to i: the input continues after item i.
      state_.next = c.after[i];
      state_.documents = status_.documents;
      state_.tokens = status_.tokens;
      state_.skipped_lines = status_.skipped_lines + c.skipped_before[i];
      record_shard();
      if (o_.stop_after_shards > 0 && ++written_ >= o_.stop_after_shards) return false;
    }
    status_.skipped_lines += c.report.skipped;
    for (const std::string& m : c.report.messages) {
      if (cb_.skipped_line && reported_skips_++ < kMaxReportedSkips) cb_.skipped_line(m);
    }
    status_.bytes_done = c.bytes_done;
    if (cb_.progress && Clock::now() - last_progress_ > std::chrono::milliseconds(500)) {
      cb_.progress(status());
      last_progress_ = Clock::now();
    }
    return true;
  }

  void record_shard() {
    state_.shards.push_back(writer_.last_name());
    state_.shard_bytes.push_back(writer_.last_bytes());
    status_.shards = state_.shards.size();
    write_prepare_progress(o_.out, state_);
  }

  const PrepareOptions& o_;
  const PrepareCallbacks& cb_;
  const Tokenizer& tokenizer_;
  std::vector<std::string> files_;
  PrepareState state_;
  ChunkReader reader_;
  ShardWriter writer_;
  PrepareStatus status_;
  int64_t written_ = 0;  // shards written by this run
  int64_t reported_skips_ = 0;
  Clock::time_point start_ = Clock::now();
  Clock::time_point last_progress_ = start_;
};

void write_index(const PrepareOptions& o, const PrepareResult& r, const Tokenizer& tokenizer, uint64_t fingerprint,
                 const json& identity) {
  const json index = {{"format", "bitnet token shards v1"},
                      {"source_format", enum_name(o.format)},
                      {"masked", r.masked},
                      {"tokenizer",
                       {{"type", enum_name(r.tokenizer_type)},
                        {"path", r.tokenizer_type == TokenizerType::kByte ? "" : o.tokenizer},
                        {"vocab_size", tokenizer.vocab_size()},
                        {"fingerprint", fingerprint}}},
                      {"documents", r.status.documents},
                      {"tokens", r.status.tokens},
                      {"skipped_lines", r.status.skipped_lines},
                      {"shards", r.shards},
                      {"prepare", identity}};
  formats::write_file_atomic((fs::path(o.out) / kPrepareIndexFile).string(), index.dump(2) + "\n");
}

}  // namespace

PrepareResult prepare_shards(const PrepareOptions& o, const PrepareCallbacks& cb) {
  validate(o);
  PrepareResult r;
  r.tokenizer_type = o.tokenizer == "byte" ? TokenizerType::kByte : TokenizerType::kBpe;
  r.masked = prepares_examples(o.format);
  r.threads = thread_count(o.threads);
  const auto tokenizer = make_tokenizer(r.tokenizer_type, o.tokenizer);
  const uint64_t fingerprint = tokenizer_fingerprint(*tokenizer);
  const std::vector<std::string> files = expand_paths(o.inputs);
  const json identity = prepare_identity(o, *tokenizer, fingerprint, files);
  OutputStart start = start_output(o.out, identity, o.restart);
  if (start.complete) {
    r.already_complete = true;
    return r;
  }
  r.resumed_shards = start.state.shards.size();
  write_prepare_progress(o.out, start.state);  // afresh: the identity is recorded before any shard
  Pipeline pipeline(o, cb, *tokenizer, fingerprint, files, std::move(start.state));
  try {
    r.stopped = !pipeline.run(r.threads);
  } catch (const DataError&) {
    if (pipeline.state().shards.empty()) remove_progress(o.out);  // nothing to resume
    throw;
  }
  r.status = pipeline.status();
  r.shards = pipeline.state().shards;
  if (r.stopped) return r;
  if (r.status.documents == 0) {
    remove_progress(o.out);
    throw DataError("no " + std::string(r.masked ? "examples" : "documents") + " in the " +
                    std::to_string(files.size()) + " input file(s) (" + std::to_string(r.status.skipped_lines) +
                    " bad line(s) skipped)");
  }
  write_index(o, r, *tokenizer, fingerprint, identity);
  remove_progress(o.out);  // dataset.json now marks the prepare complete
  r.hint = jsonl_text_hint(o, files);
  return r;
}

}  // namespace bitnet::data
