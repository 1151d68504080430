// Everything the training loop reads: the tokenizer, the dataset (data.format) split into train
// and validation by document, and the batch streams for this rank: packed windows for
// pre-training text, packed or padded masked rows for fine-tuning examples (data.sft_layout).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "data/batches.h"
#include "data/jsonl.h"
#include "data/mixture.h"
#include "data/token_dataset.h"
#include "data/tokenizer.h"
#include "trainer/config.h"

namespace bitnet {

struct RunData {
  std::unique_ptr<data::Tokenizer> tokenizer;
  std::unique_ptr<data::TrainStream> train;
  std::unique_ptr<data::EvalStream> val;  // null when data.val_fraction is 0
  bool fine_tuning = false;               // masked examples (jsonl, masked shards)
  int64_t streamed_shard_files = 0;       // pre-training shards read as needed (0: data loaded whole)
  int64_t train_documents = 0, val_documents = 0;
  int64_t train_tokens = 0, val_tokens = 0;
  double val_bytes_per_token = 1.0;             // UTF-8 bytes per validation target token, for bits per byte
  data::JsonlReport jsonl;                      // jsonl only: lines, examples, skipped lines
  std::vector<data::SourceProportion> mixture;  // data.sources only: what each source gives
  // Files that make a checkpoint self-contained: (name, contents) of the BPE tokenizer.json and,
  // when present beside it, tokenizer_config.json (BOS/EOS/PAD). Empty for the byte tokenizer.
  std::vector<std::pair<std::string, std::string>> tokenizer_files;
};

// The tokenizer files of a config (see RunData::tokenizer_files). data::DataError if unreadable.
std::vector<std::pair<std::string, std::string>> tokenizer_files(const TokenizerConfig& config);

// The dataset options of a run config (also used by `bitnet data check`).
data::DatasetOptions dataset_options(const RunConfig& config);

// UTF-8 bytes per target token of held-out items (decoded text; documents also predict the EOS
// packed before the next one), for bits per byte. 1 when there is no text.
double bytes_per_target(const std::vector<data::MaskedTokens>& items, const data::Tokenizer& tokenizer, bool masked);

// The evaluation batches of held-out items: documents packed with EOS between them into windows
// of seq_len + 1 tokens in order, or one masked example per row (padded). data::DataError when
// there is not one window (or no trained target within seq_len + 1 tokens).
std::unique_ptr<data::EvalStream> eval_stream(std::vector<data::MaskedTokens> items, bool masked,
                                              const data::Tokenizer& tokenizer, int64_t seq_len);

// Sets the token counts, bytes per token and batch streams of `d` (its tokenizer and fine_tuning
// already set) from in-memory training and validation items.
void set_streams(RunData& d, std::vector<data::MaskedTokens> train, std::vector<data::MaskedTokens> val,
                 const RunConfig& config, int64_t rank, int64_t world_size);

// data.format shards without a loss mask (pre-training documents): fills the streams, counts and
// bits-per-byte ratio of `d` (whose tokenizer is set) with shards read as batches need them
// (data/shard_stream.h), the same windows the in-memory path gives, and returns true. Returns
// false, touching nothing, for fine-tuning shards (they are loaded whole). data::DataError as
// prepare_run_data.
bool prepare_streamed_shards(const RunConfig& config, int64_t rank, int64_t world_size, RunData& d);

// Throws data::DataError (missing files, bad lines, empty corpus, too little data for one window).
RunData prepare_run_data(const RunConfig& config, int64_t rank, int64_t world_size);

}  // namespace bitnet
