// `bitnet data check CONFIG [key=value ...]` (load a run's dataset, print its statistics); the
// `data prepare` subcommand is in data_prepare_command.cpp.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "data/byte_tokenizer.h"
#include "data/dataset_stats.h"
#include "data/error.h"
#include "data/shard_stream.h"
#include "data/token_dataset.h"
#include "trainer/config.h"
#include "trainer/console.h"
#include "trainer/run_data.h"
#include "trainer/run_mixture.h"

namespace bitnet::cli {
namespace {

using Clock = std::chrono::steady_clock;

// Pre-training shards are not loaded: their statistics come from the document offsets. False
// (and `out` untouched) for other formats and for fine-tuning shards.
bool pretraining_shard_stats(const RunConfig& c, const data::Tokenizer& tokenizer, data::DatasetStats* out) {
  if (c.data.format != data::DataFormat::kShards) return false;
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
              format_count(s.documents).c_str(), format_count(s.tokens).c_str(), format_count(s.longest).c_str(),
              s.documents > 0 ? double(s.tokens) / double(s.documents) : 0.0);
  if (ds.masked) {
    std::printf("masking   %.1f%% of tokens masked (not trained), %s trained tokens\n", 100.0 * s.masked_fraction,
                format_count(s.trained_tokens).c_str());
    std::printf(
        "seq_len   %s: %s truncated (longer than seq_len + 1), %s with no trained token left "
        "(dropped)\n",
        format_count(T).c_str(), format_count(s.truncated).c_str(), format_count(s.untrainable).c_str());
    std::printf(
        "rows      pad: %s rows, %.1f%% positions wasted; pack: %s rows, %.1f%% wasted "
        "(data.sft_layout=%s)\n",
        format_count(s.pad_rows).c_str(), 100.0 * s.wasted_fraction(s.pad_rows, T), format_count(s.pack_rows).c_str(),
        100.0 * s.wasted_fraction(s.pack_rows, T), enum_name(c.data.sft_layout));
    if (ds.jsonl.lines > 0) {
      std::printf("jsonl     %s lines, %s examples, %s skipped\n", format_count(ds.jsonl.lines).c_str(),
                  format_count(ds.jsonl.examples).c_str(), format_count(ds.jsonl.skipped).c_str());
      for (const std::string& m : ds.jsonl.messages) std::printf("  skipped %s\n", m.c_str());
    }
  } else {
    const int64_t packed = s.tokens + s.documents;  // EOS after each document
    std::printf(
        "seq_len   %s: %s windows of seq_len + 1 tokens (documents packed with EOS); "
        "%s documents longer than one window\n",
        format_count(T).c_str(), format_count(packed > T ? (packed - 1) / T : 0).c_str(),
        format_count(s.truncated).c_str());
  }
}

// data.sources: load and mix the sources as a run would, print the proportions, then the
// statistics of the mixed training set.
int check_mixture(const RunConfig& c, const data::Tokenizer& tokenizer) {
  const auto start = Clock::now();
  data::Mixture mix = load_mixture(c, tokenizer);
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("dataset   mixture of %zu sources (%s tokenizer, vocab %s), loaded, tokenized and mixed in %.2f s\n",
              mix.sources.size(), enum_name(tokenizer.type()), format_count(tokenizer.vocab_size()).c_str(), secs);
  std::printf(
      "mixture   weight = share of the training tokens, epochs = passes over a source's own training "
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
  std::printf("dataset   %s (%s tokenizer, vocab %s), %s in %.2f s\n", enum_name(c.data.format),
              enum_name(tokenizer->type()), format_count(tokenizer->vocab_size()).c_str(),
              indexed ? "indexed (headers and document offsets, no token read)" : "loaded and tokenized", secs);
  print_stats(ds, s, c);
  std::printf("ok\n");
  return 0;
}

}  // namespace

void add_data_command(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("data", "Prepare token shards and check datasets.");
  cmd->require_subcommand(1);
  add_data_prepare_command(*cmd, exit_code);

  auto config_path = std::make_shared<std::string>();
  auto overrides = std::make_shared<std::vector<std::string>>();
  auto* check = cmd->add_subcommand("check", "Load a run config's dataset with its tokenizer and print statistics.");
  check->add_option("config", *config_path, "YAML run config")->required();
  check->add_option("overrides", *overrides, "key.sub=value overrides");
  check->callback([=] { *exit_code = run_check(*config_path, *overrides); });
}

}  // namespace bitnet::cli
