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
#include "data/token_dataset.h"
#include "data/tokenizer.h"
#include "trainer/config.h"

namespace bitnet {

struct RunData {
  std::unique_ptr<data::Tokenizer> tokenizer;
  std::unique_ptr<data::TrainStream> train;
  std::unique_ptr<data::EvalStream> val;  // null when data.val_fraction is 0
  bool fine_tuning = false;               // masked examples (jsonl, masked shards)
  int64_t train_documents = 0, val_documents = 0;
  int64_t train_tokens = 0, val_tokens = 0;
  double val_bytes_per_token = 1.0;  // UTF-8 bytes per validation target token, for bits per byte
  data::JsonlReport jsonl;           // jsonl only: lines, examples, skipped lines
  // Files that make a checkpoint self-contained: (name, contents) of the BPE tokenizer.json and,
  // when present beside it, tokenizer_config.json (BOS/EOS/PAD). Empty for the byte tokenizer.
  std::vector<std::pair<std::string, std::string>> tokenizer_files;
};

// The tokenizer files of a config (see RunData::tokenizer_files). data::DataError if unreadable.
std::vector<std::pair<std::string, std::string>> tokenizer_files(const TokenizerConfig& config);

// The dataset options of a run config (also used by `bitnet data check`).
data::DatasetOptions dataset_options(const RunConfig& config);

// Throws data::DataError (missing files, bad lines, empty corpus, too little data for one window).
RunData prepare_run_data(const RunConfig& config, int64_t rank, int64_t world_size);

}  // namespace bitnet
