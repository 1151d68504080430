// `bitnet data prepare INPUTS... --out DIR` (text/JSONL → token shards) and
// `bitnet data check CONFIG [key=value ...]` (load a run's dataset, print its statistics).
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "data/byte_tokenizer.h"
#include "data/dataset_stats.h"
#include "data/error.h"
#include "data/shard_stream.h"
#include "data/jsonl.h"
#include "data/text_documents.h"
#include "data/token_dataset.h"
#include "formats/atomic_file.h"
#include "formats/token_shard.h"
#include "trainer/config.h"
#include "trainer/console.h"
#include "trainer/run_data.h"
#include "trainer/run_mixture.h"

namespace bitnet::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct PrepareOptions {
  std::vector<std::string> inputs;
  std::string out;
  std::string tokenizer = "byte";  // "byte" or a tokenizer.json / model directory
  std::string format = "text";
  std::string separator = "%";
  std::string chat_template = "generic";
  std::string bad_lines = "fail";
  int64_t shard_tokens = 64 << 20;
  int64_t max_line_bytes = data::kDefaultMaxLineBytes;  // jsonl: a longer line is a bad line
};

// Accumulates items into shards of about shard_tokens tokens (whole documents) and writes them.
class ShardWriter {
 public:
  ShardWriter(const PrepareOptions& o, uint64_t vocab, uint64_t fingerprint)
      : o_(o), vocab_(vocab), fingerprint_(fingerprint) { start(); }
  void add(const data::MaskedTokens& m, bool masked) {
    shard_.tokens.insert(shard_.tokens.end(), m.tokens.begin(), m.tokens.end());
    if (masked) shard_.mask.insert(shard_.mask.end(), m.trained.begin(), m.trained.end());
    shard_.offsets.push_back(shard_.tokens.size());
    if (static_cast<int64_t>(shard_.tokens.size()) >= o_.shard_tokens) flush();
  }
  void flush() {
    if (shard_.num_documents() == 0) return;
    char name[32];
    std::snprintf(name, sizeof name, "shard-%05zu.bts", files_.size());
    const std::string path = (std::filesystem::path(o_.out) / name).string();
    formats::write_token_shard(path, shard_);
    files_.push_back(name);
    start();
  }
  const std::vector<std::string>& files() const { return files_; }

 private:
  void start() {
    shard_ = formats::TokenShard();
    shard_.vocab_size = vocab_;
    shard_.tokenizer_fingerprint = fingerprint_;
  }
  const PrepareOptions& o_;
  uint64_t vocab_, fingerprint_;
  formats::TokenShard shard_;
  std::vector<std::string> files_;
};

void progress(const Clock::time_point& start, int64_t docs, int64_t tokens, uint64_t bytes, bool final) {
  const double s = std::chrono::duration<double>(Clock::now() - start).count();
  std::fprintf(stderr, "%sprepare: %s documents, %s tokens, %.1f MB in %.1f s (%s tokens/s)%s",
               final ? "" : "\r", format_count(docs).c_str(), format_si(double(tokens)).c_str(),
               double(bytes) / 1e6, s, format_si(s > 0 ? double(tokens) / s : 0.0).c_str(),
               final ? "\n" : "");
  std::fflush(stderr);
}

int run_prepare(const PrepareOptions& o) {
  const std::string type = o.tokenizer == "byte" ? "byte" : "bpe";
  const auto tokenizer = data::make_tokenizer(type, type == "byte" ? "" : o.tokenizer);
  if (o.format != "text" && o.format != "jsonl") {
    throw data::DataError("--format must be text or jsonl, got '" + o.format + "'");
  }
  if (o.shard_tokens < 1) throw data::DataError("--shard-tokens must be at least 1");
  if (o.max_line_bytes < 1) throw data::DataError("--max-line-bytes must be at least 1");
  std::filesystem::create_directories(o.out);
  const uint64_t fingerprint = data::tokenizer_fingerprint(*tokenizer);
  ShardWriter writer(o, static_cast<uint64_t>(tokenizer->vocab_size()), fingerprint);
  const bool masked = o.format == "jsonl";
  data::DatasetOptions dopt;
  dopt.format = o.format;
  dopt.separator_line = o.separator;
  dopt.chat_template = data::parse_chat_template(o.chat_template);
  dopt.bad_lines = o.bad_lines == "skip" ? data::BadLines::kSkip : data::BadLines::kFail;
  dopt.max_line_bytes = o.max_line_bytes;
  const auto start = Clock::now();
  auto last = start;
  int64_t docs = 0, tokens = 0, skipped = 0;
  uint64_t bytes = 0;
  for (const std::string& file : data::expand_paths(o.inputs)) {  // one file at a time: progress
    dopt.paths = {file};
    data::TokenDataset ds = data::load_token_dataset(dopt, *tokenizer);
    bytes += std::filesystem::file_size(file);
    skipped += ds.jsonl.skipped;
    for (const std::string& m : ds.jsonl.messages) std::fprintf(stderr, "\nskipped %s\n", m.c_str());
    for (const data::MaskedTokens& m : ds.items) {
      writer.add(m, masked);
      ++docs;
      tokens += static_cast<int64_t>(m.tokens.size());
    }
    if (Clock::now() - last > std::chrono::milliseconds(500)) {
      progress(start, docs, tokens, bytes, false);
      last = Clock::now();
    }
  }
  writer.flush();
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  nlohmann::json index = {
      {"format", "bitnet token shards v1"},
      {"source_format", o.format},
      {"masked", masked},
      {"tokenizer", {{"type", type}, {"path", type == "byte" ? "" : o.tokenizer},
                     {"vocab_size", tokenizer->vocab_size()}, {"fingerprint", fingerprint}}},
      {"documents", docs},
      {"tokens", tokens},
      {"skipped_lines", skipped},
      {"shards", writer.files()}};
  formats::write_file_atomic((std::filesystem::path(o.out) / "dataset.json").string(), index.dump(2) + "\n");
  progress(start, docs, tokens, bytes, true);
  std::printf("prepared %s: %s %s, %s tokens in %zu shard(s)%s; %s tokens/s, %.2f MB/s\n"
              "train on it with: data.format=shards data.paths=[%s] tokenizer.type=%s%s\n",
              o.out.c_str(), format_count(docs).c_str(), masked ? "examples" : "documents",
              format_count(tokens).c_str(), writer.files().size(),
              skipped > 0 ? (", " + std::to_string(skipped) + " bad line(s) skipped").c_str() : "",
              format_si(secs > 0 ? double(tokens) / secs : 0.0).c_str(),
              secs > 0 ? double(bytes) / 1e6 / secs : 0.0, o.out.c_str(), type.c_str(),
              type == "byte" ? "" : (" tokenizer.path=" + o.tokenizer).c_str());
  return 0;
}

// Pre-training shards are not loaded: their statistics come from the document offsets. False
// (and `out` untouched) for other formats and for fine-tuning shards.
bool pretraining_shard_stats(const RunConfig& c, const data::Tokenizer& tokenizer, data::DatasetStats* out) {
  if (c.data.format != "shards") return false;
  const data::ShardCorpus corpus(data::shard_files(c.data.paths), tokenizer);
  if (corpus.masked()) return false;
  if (corpus.num_documents() == 0) throw data::DataError("the dataset holds no document or example");
  *out = data::shard_corpus_stats(corpus, c.data.seq_len);
  return true;
}

// The statistics lines of `data check` for one set of documents or examples: `s` are its
// statistics, `ds` says whether they are masked examples and holds the JSONL report (its items
// are empty for indexed shards).
void print_stats(const data::TokenDataset& ds, const data::DatasetStats& s, const RunConfig& c) {
  const int64_t T = c.data.seq_len;
  std::printf("%s %s, %s tokens, longest %s, mean %.1f\n", ds.masked ? "examples " : "documents",
              format_count(s.documents).c_str(), format_count(s.tokens).c_str(),
              format_count(s.longest).c_str(), s.documents > 0 ? double(s.tokens) / double(s.documents) : 0.0);
  if (ds.masked) {
    std::printf("masking   %.1f%% of tokens masked (not trained), %s trained tokens\n",
                100.0 * s.masked_fraction, format_count(s.trained_tokens).c_str());
    std::printf("seq_len   %s: %s truncated (longer than seq_len + 1), %s with no trained token left "
                "(dropped)\n", format_count(T).c_str(), format_count(s.truncated).c_str(),
                format_count(s.untrainable).c_str());
    std::printf("rows      pad: %s rows, %.1f%% positions wasted; pack: %s rows, %.1f%% wasted "
                "(data.sft_layout=%s)\n", format_count(s.pad_rows).c_str(),
                100.0 * s.wasted_fraction(s.pad_rows, T), format_count(s.pack_rows).c_str(),
                100.0 * s.wasted_fraction(s.pack_rows, T), c.data.sft_layout.c_str());
    if (ds.jsonl.lines > 0) {
      std::printf("jsonl     %s lines, %s examples, %s skipped\n", format_count(ds.jsonl.lines).c_str(),
                  format_count(ds.jsonl.examples).c_str(), format_count(ds.jsonl.skipped).c_str());
      for (const std::string& m : ds.jsonl.messages) std::printf("  skipped %s\n", m.c_str());
    }
  } else {
    const int64_t packed = s.tokens + s.documents;  // EOS after each document
    std::printf("seq_len   %s: %s windows of seq_len + 1 tokens (documents packed with EOS); "
                "%s documents longer than one window\n", format_count(T).c_str(),
                format_count(packed > T ? (packed - 1) / T : 0).c_str(), format_count(s.truncated).c_str());
  }
}

// data.sources: load and mix the sources as a run would, print the proportions, then the
// statistics of the mixed training set.
int check_mixture(const RunConfig& c, const data::Tokenizer& tokenizer) {
  const auto start = Clock::now();
  data::Mixture mix = load_mixture(c, tokenizer);
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("dataset   mixture of %zu sources (%s tokenizer, vocab %s), loaded, tokenized and mixed in %.2f s\n",
              mix.sources.size(), tokenizer.type().c_str(), format_count(tokenizer.vocab_size()).c_str(), secs);
  std::printf("mixture   weight = share of the training tokens, epochs = passes over a source's own training "
              "documents (train.seed %lld, data.val_fraction %g)\n",
              static_cast<long long>(c.train.seed), c.data.val_fraction);
  for (const std::string& line : mixture_table(mix.sources)) std::printf("  %s\n", line.c_str());
  std::printf("training set of the mixture (repeats counted):\n");
  data::TokenDataset train;
  train.masked = mix.masked;
  train.items = std::move(mix.train);
  train.jsonl = std::move(mix.jsonl);
  print_stats(train, data::dataset_stats(train, c.data.seq_len), c);
  std::printf("ok\n");
  return 0;
}

int run_check(const std::string& config_path, const std::vector<std::string>& overrides) {
  const RunConfig c = load_config(config_path, overrides);
  const auto tokenizer = data::make_tokenizer(c.tokenizer.type, c.tokenizer.path);
  if (!c.data.sources.empty()) return check_mixture(c, *tokenizer);
  const auto start = Clock::now();
  data::TokenDataset ds;
  data::DatasetStats s;
  const bool indexed = pretraining_shard_stats(c, *tokenizer, &s);
  if (!indexed) {
    ds = data::load_token_dataset(dataset_options(c), *tokenizer);
    s = data::dataset_stats(ds, c.data.seq_len);
  }
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("dataset   %s (%s tokenizer, vocab %s), %s in %.2f s\n",
              c.data.format.c_str(), tokenizer->type().c_str(),
              format_count(tokenizer->vocab_size()).c_str(),
              indexed ? "indexed (headers and document offsets, no token read)" : "loaded and tokenized", secs);
  print_stats(ds, s, c);
  std::printf("ok\n");
  return 0;
}

}  // namespace

void add_data_command(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("data", "Prepare token shards and check datasets.");
  cmd->require_subcommand(1);
  auto po = std::make_shared<PrepareOptions>();
  auto* prepare = cmd->add_subcommand("prepare", "Tokenize text or JSONL files once into token shards.");
  prepare->add_option("inputs", po->inputs, "text or JSONL files (globs allowed)")->required();
  prepare->add_option("--out", po->out, "output directory for the shards")->required();
  prepare->add_option("--tokenizer", po->tokenizer, "byte, or a tokenizer.json / model directory (bpe)");
  prepare->add_option("--format", po->format, "text | jsonl")->check(CLI::IsMember({"text", "jsonl"}));
  prepare->add_option("--separator", po->separator, "text: line that ends a document (\"\" = blank lines)");
  prepare->add_option("--chat-template", po->chat_template, "jsonl messages: generic | bitnet-2b4t | llama3")
      ->check(CLI::IsMember({"generic", "bitnet-2b4t", "llama3"}));
  prepare->add_option("--bad-lines", po->bad_lines, "jsonl: fail | skip")->check(CLI::IsMember({"fail", "skip"}));
  prepare->add_option("--shard-tokens", po->shard_tokens, "tokens per shard file (whole documents)");
  prepare->add_option("--max-line-bytes", po->max_line_bytes,
                      "jsonl: a longer line is a bad line, never held whole (default 16 MiB)");
  prepare->callback([=] { *exit_code = run_prepare(*po); });

  auto config_path = std::make_shared<std::string>();
  auto overrides = std::make_shared<std::vector<std::string>>();
  auto* check = cmd->add_subcommand("check", "Load a run config's dataset with its tokenizer and print statistics.");
  check->add_option("config", *config_path, "YAML run config")->required();
  check->add_option("overrides", *overrides, "key.sub=value overrides");
  check->callback([=] { *exit_code = run_check(*config_path, *overrides); });
}

}  // namespace bitnet::cli
